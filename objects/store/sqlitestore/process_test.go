package sqlitestore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
	"github.com/glyph-ipc/glyph/service"
)

// childEnv names what a re-executed test binary does instead of testing:
// "lock DIR" or "put DIR".
const childEnv = "GLYPH_SQLITESTORE_CHILD"

func TestMain(m *testing.M) {
	if arg := os.Getenv(childEnv); arg != "" {
		what, dir, _ := strings.Cut(arg, " ")
		switch what {
		case "lock":
			os.Exit(childLock(dir))
		case "put":
			os.Exit(childPut(dir))
		}
		fmt.Fprintln(os.Stderr, "unknown child", arg)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// child starts this test binary as a child doing what.
func child(t *testing.T, what, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+what+" "+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

// childLock tries to open the store in dir and prints the error.
func childLock(dir string) int {
	s, err := sqlitestore.Open(context.Background(), dir)
	if err != nil {
		fmt.Println(err)
		if errors.Is(err, store.ErrLocked) {
			return 3
		}
		return 1
	}
	s.Close()
	return 0
}

// crashRecord is record i of the crash test: some inline, some in files.
func crashRecord(i int) storetest.Rec {
	r := storetest.Container("alice", strings.Repeat(fmt.Sprintf("record %d;", i), 1+(i%5)*40))
	return r
}

// childPut puts records into dir until it is killed, printing the number
// of each once its Put has returned.
func childPut(dir string) int {
	s, err := sqlitestore.Open(context.Background(), dir, store.WithInlineLimit(1024))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range 100000 {
		r := crashRecord(i)
		if _, err := s.Put(context.Background(), r.Meta, bytes.NewReader(r.Body)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%d\n", i)
	}
	return 0
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlitestore.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlitestore.Open(context.Background(), dir)
	if !errors.Is(err, store.ErrLocked) || service.KindOf(err) != service.KindUnavailable {
		t.Fatalf("second Open in this process = %v, want ErrLocked", err)
	}
	if want := fmt.Sprintf("in use by process %d (this one)", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}

	out, err := child(t, "lock", dir).Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Open in another process: %v, output %q; want ErrLocked", err, out)
	}
	if want := fmt.Sprintf("in use by process %d", os.Getpid()); !strings.Contains(string(out), want) {
		t.Errorf("other process's error %q does not say %q", out, want)
	}

	// Once closed, the store opens elsewhere.
	s.Close()
	if out, err := child(t, "lock", dir).Output(); err != nil {
		t.Fatalf("Open in another process after Close: %v, %q", err, out)
	}
}

// A process killed with SIGKILL in the middle of Puts loses none that
// returned.
func TestCrashKeepsAcknowledgedPuts(t *testing.T) {
	dir := t.TempDir()
	cmd := child(t, "put", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const acked = 300
	lines := make(chan int)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err == nil {
				lines <- n
			}
		}
		close(lines)
	}()
	last := -1
	timeout := time.After(2 * time.Minute)
	for last < acked {
		select {
		case n, ok := <-lines:
			if !ok {
				t.Fatalf("the child stopped after %d puts", last+1)
			}
			last = n
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("the child acknowledged only %d puts in 2 minutes", last+1)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Acknowledgements already written before the kill count too.
	for n := range lines {
		last = n
	}
	cmd.Wait()

	s, err := sqlitestore.Open(context.Background(), dir, store.WithInlineLimit(1024))
	if err != nil {
		t.Fatalf("Open after the crash: %v", err)
	}
	defer s.Close()
	for i := 0; i <= last; i++ {
		r := crashRecord(i)
		_, rc, err := s.Get(context.Background(), r.Meta.Addr)
		if err != nil {
			t.Fatalf("record %d of %d acknowledged: %v", i, last+1, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, r.Body) {
			t.Fatalf("record %d read back as %d bytes, %v", i, len(b), err)
		}
	}
	t.Logf("%d acknowledged puts survived SIGKILL", last+1)
}
