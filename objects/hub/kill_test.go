package hub_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
)

// childEnv makes the test binary a daemon that pushes to one object until
// it is killed (runChild), printing each push it got acknowledged.
const childEnv = "GLYPH_HUB_TEST_CHILD"

func runChild() {
	cfg := &hub.Config{Store: os.Getenv("GLYPH_HUB_TEST_STORE"), LogLevel: "error"}
	if u := os.Getenv("GLYPH_HUB_TEST_REMOTE"); u != "" {
		cfg.Remotes = []hub.RemoteConfig{{URL: u}}
	}
	id, err := record.ParseAddress(os.Getenv("GLYPH_HUB_TEST_OBJECT"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	h, err := hub.Open(bg, cfg, hub.WithLogger(quiet()))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 1; ; i++ {
		n, err := h.Push(bg, id, []byte(strconv.Itoa(i)), "child")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("acked", n)
	}
}

// A daemon killed with SIGKILL in the middle of pushes loses none it
// acknowledged: after a restart the object is at least at the last
// acknowledged push, locally and, once drained, on the remote.
func TestKillLosesNoAcknowledgedPush(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process")
	}
	r := startRemote(t)
	ctx := ctxT(t)
	cfg := config(t, r)
	h, err := hub.Open(bg, cfg, hub.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Create(ctx, "carol", "kill test password"); err != nil {
		t.Fatal(err)
	}
	id, err := h.New(ctx, "test.counter", []byte("0"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	h.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "GLYPH_HUB_TEST_STORE="+cfg.Store, "GLYPH_HUB_TEST_REMOTE="+r.url(), "GLYPH_HUB_TEST_OBJECT="+id.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acked uint64
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() && acked < 150 && time.Now().Before(deadline) {
		line := sc.Text()
		n, ok := strings.CutPrefix(line, "acked ")
		if !ok {
			t.Fatalf("child: %s", line)
		}
		if acked, err = strconv.ParseUint(n, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	// Acknowledgements printed before the kill but not read yet count too.
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked, _ = strconv.ParseUint(n, 10, 64)
		}
	}
	cmd.Wait()
	if acked == 0 {
		t.Fatal("the child acknowledged no push")
	}

	h2 := openHub(t, cfg)
	state, info, err := h2.State(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Counter < acked || string(state) != strconv.FormatUint(info.Counter, 10) {
		t.Fatalf("after the kill: counter %d state %q, last acknowledged %d", info.Counter, state, acked)
	}
	if err := h2.Drained(ctx); err != nil {
		t.Fatal(err)
	}
	fp, _ := h2.Whoami()
	_ = fp
	c := remoteClient(t, r, h2)
	data, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	f, err := record.ParseFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Counter != info.Counter {
		t.Fatalf("the remote's head is frame %d, the daemon's %d", f.Counter, info.Counter)
	}
}

// remoteClient returns a client of r logged in as a new identity, to look
// at what the remote holds.
func remoteClient(t testing.TB, r *testRemote, _ *hub.Hub) *remote.Client {
	t.Helper()
	k, err := record.NewKeys(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.Dial(bg, r.url(), k.Identity, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
