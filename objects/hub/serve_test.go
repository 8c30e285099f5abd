package hub_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/hub"
)

// serve serves h's applications until the end of the test and returns the
// socket's peer URL.
func serve(t testing.TB, h *hub.Hub) string {
	t.Helper()
	ctx, cancel := context.WithCancel(bg)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "unix://" + h.Config().Socket
}

// app is an application's view of the daemon's service over a peer.
type app struct {
	t     testing.TB
	index *client.Value
	token string
}

func connect(t testing.TB, url, name string) *app {
	t.Helper()
	c := client.New()
	t.Cleanup(func() { c.Close() })
	index, err := c.Get(ctxT(t), url)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, index: index}
	var reg hub.Registration
	a.call("register", &reg, client.Named{"name": name})
	a.token = reg.Token
	return a
}

func (a *app) call(fn string, out any, args ...any) {
	a.t.Helper()
	if err := a.try(fn, out, args...); err != nil {
		a.t.Fatalf("%s: %v", fn, err)
	}
}

func (a *app) try(fn string, out any, args ...any) error {
	if a.token != "" {
		args = append([]any{a.token}, args...)
	}
	v, err := a.index.Path(ctxT(a.t), fn, args...)
	if err != nil {
		return err
	}
	if out != nil {
		return v.Decode(out)
	}
	return nil
}

// watch streams the events the app asks for into a channel.
func (a *app) watch(objects, apis []string) <-chan hub.EventView {
	a.t.Helper()
	f, err := a.index.Get("watch")
	if err != nil {
		a.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	a.t.Cleanup(cancel)
	ch := make(chan hub.EventView, 64)
	ready := make(chan struct{})
	go func() {
		for v, err := range f.Stream(ctx, client.Named{"token": a.token, "objects": objects, "apis": apis}) {
			if err != nil {
				return
			}
			var ev hub.EventView
			if v.Decode(&ev) != nil {
				continue
			}
			if ev.Kind == "ready" {
				close(ready)
				continue
			}
			ch <- ev
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		a.t.Fatal("watch: not ready")
	}
	return ch
}

func nextEvent(t testing.TB, ch <-chan hub.EventView) hub.EventView {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	return hub.EventView{}
}

// Two applications on one daemon: each sees the other's pushes, never
// its own; a private object is invisible to the other.
func TestServeApplications(t *testing.T) {
	h := openHub(t, config(t))
	if _, err := h.Create(ctxT(t), "erin", "erin password"); err != nil {
		t.Fatal(err)
	}
	url := serve(t, h)
	a, b := connect(t, url, "writer"), connect(t, url, "reader")
	var me string
	a.call("whoami", &me)
	if fp, _ := h.Whoami(); me != fp.String() {
		t.Fatalf("whoami %q", me)
	}
	var id string
	a.call("new", &id, client.Named{"api": "test.doc", "state": []byte("one"), "dynamic": true})
	aw, bw := a.watch([]string{id}, nil), b.watch([]string{id}, nil)
	var n uint64
	a.call("push", &n, id, []byte("two"))
	if ev := nextEvent(t, bw); ev.Kind != "update" || ev.ID != id || ev.Counter != 1 {
		t.Fatalf("reader's event %+v", ev)
	}
	b.call("push", &n, id, []byte("three"))
	if ev := nextEvent(t, aw); ev.Counter != 2 {
		t.Fatalf("writer's event %+v (its own push must not come back)", ev)
	}
	var obj hub.ObjectView
	b.call("get", &obj, id)
	if string(obj.State) != "three" || obj.API != "test.doc" || !obj.Dynamic {
		t.Fatalf("get: %+v", obj)
	}

	// An object another application makes reaches the handlers of its API
	// id, not its maker's.
	bs, as := b.watch(nil, []string{"test.made"}), a.watch(nil, []string{"test.made"})
	var made string
	a.call("new", &made, client.Named{"api": "test.made", "state": []byte("m")})
	if ev := nextEvent(t, bs); ev.Kind != "share" || ev.ID != made || ev.From != me {
		t.Fatalf("the handler got %+v", ev)
	}
	select {
	case ev := <-as:
		t.Fatalf("the maker's own handler got %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}

	var priv string
	a.call("new", &priv, client.Named{"api": "test.secret", "state": []byte("mine"), "private": true})
	if err := b.try("get", nil, priv); err == nil || !strings.Contains(err.Error(), "no object") {
		t.Fatalf("another application read a private object: %v", err)
	}
	var ok bool
	a.call("startup", &ok, priv)
	again := &app{t: t, index: a.index}
	var reg hub.Registration
	again.call("register", &reg, client.Named{"token": a.token})
	if reg.Startup != priv || reg.Name != "writer" {
		t.Fatalf("registering again: %+v, want startup %s", reg, priv)
	}
	if err := again.try("register", nil, client.Named{"token": "gt1.forged"}); err == nil {
		t.Fatal("a forged token was accepted")
	}
}

// A share that arrives while no application handles its API id is kept,
// and handed to the first application that registers for it.
func TestLateShareHandler(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	a, b := openHub(t, config(t, r)), openHub(t, config(t, r))
	if _, err := a.Create(ctx, "fay", "fay password"); err != nil {
		t.Fatal(err)
	}
	gus, err := b.Create(ctx, "gus", "gus password")
	if err != nil {
		t.Fatal(err)
	}
	b.Drained(ctx)
	bev := watch(t, b)
	id, err := a.New(ctx, "test.late", []byte("hello"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, id, gus); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventShare, id) // arrived, with no handler
	url := serve(t, b)
	late := connect(t, url, "late")
	ev := nextEvent(t, late.watch(nil, []string{"test.late"}))
	fay, _ := a.Whoami()
	if ev.Kind != "share" || ev.ID != id.String() || ev.From != fay.String() || ev.API != "test.late" {
		t.Fatalf("late handler got %+v", ev)
	}
	// Delivered once: a second handler does not get it again.
	second := connect(t, url, "second")
	ch := second.watch(nil, []string{"test.late"})
	select {
	case ev := <-ch:
		t.Fatalf("a share delivered twice: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}

const dialEnv = "GLYPH_HUB_TEST_DIAL"

// dialChild is the test binary run as another user: it calls whoami on
// the socket and prints what happened.
func dialChild() {
	c := client.New()
	defer c.Close()
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	path := os.Getenv(dialEnv)
	var err error
	if strings.HasSuffix(path, "hub-http.sock") {
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}}
		var resp *http.Response
		if resp, err = hc.Get("http://hub/"); err == nil {
			resp.Body.Close()
		}
	} else {
		_, err = c.Get(ctx, "unix://"+path)
	}
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println("connected")
}

// A process of another user cannot use the daemon: the socket's
// directory keeps it out, and when the directory is opened up by mistake
// the daemon's SO_PEERCRED check refuses it. The test runs a copy of its
// own binary as uid 65534 (nobody): directly when it runs as root, else
// through passwordless sudo.
func TestOtherUserRefused(t *testing.T) {
	asNobody := func(bin string, env ...string) *exec.Cmd {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return cmd
	}
	if os.Getuid() != 0 {
		if exec.Command("sudo", "-n", "true").Run() != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("CI must run this test as root or with passwordless sudo")
			}
			t.Skip("run as root, or with passwordless sudo, to test: it starts a child process as uid 65534")
		}
		asNobody = func(bin string, env ...string) *exec.Cmd {
			return exec.Command("sudo", append(append([]string{"-n", "-u", "#65534", "-g", "#65534", "env"}, env...), bin, "-test.run=^$")...)
		}
	}
	base, err := os.MkdirTemp("", "hubuid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	bin := filepath.Join(base, "hub.test")
	copyFile(t, os.Args[0], bin)
	cfg := config(t)
	cfg.Socket = filepath.Join(base, "run", "hub.sock")
	h := openHub(t, cfg)
	if _, err := h.Create(ctxT(t), "hal", "hal password"); err != nil {
		t.Fatal(err)
	}
	serve(t, h)
	if fi, err := os.Stat(filepath.Dir(cfg.Socket)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v, %v", fi.Mode(), err)
	}
	run := func(socket ...string) string {
		path := cfg.Socket
		if len(socket) > 0 {
			path = socket[0]
		}
		out, err := asNobody(bin, dialEnv+"="+path).CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v: %s", err, out)
		}
		return string(out)
	}
	if out := run(); !strings.Contains(out, "permission denied") {
		t.Fatalf("through the 0700 directory: %s", out)
	}
	os.Chmod(filepath.Dir(cfg.Socket), 0o755)
	os.Chmod(cfg.Socket, 0o666)
	if out := run(); !strings.HasPrefix(out, "refused:") {
		t.Fatalf("with the directory open, the daemon let uid 65534 in: %s", out)
	}
	httpSocket := filepath.Join(filepath.Dir(cfg.Socket), "hub-http.sock")
	os.Chmod(httpSocket, 0o666)
	if out := run(httpSocket); !strings.HasPrefix(out, "refused:") {
		t.Fatalf("the HTTP socket let uid 65534 in: %s", out)
	}
	// The daemon's own user still gets in.
	connect(t, "unix://"+cfg.Socket, "owner")
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
}

// The browsers' WebSocket refuses foreign origins, a missing token and a
// non-loopback Host, and serves an allowed origin with a token.
func TestWebSocketOrigins(t *testing.T) {
	cfg := config(t)
	cfg.WebSocket = &hub.WebSocketConfig{Listen: "127.0.0.1:0", Origins: []string{"https://app.example"}}
	h := openHub(t, cfg)
	if _, err := h.Create(ctxT(t), "ida", "ida password"); err != nil {
		t.Fatal(err)
	}
	token, _, err := h.Register(ctxT(t), "browser app")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.WebSocketHandler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		origin string
		token  string
		host   string
		want   int
	}{
		{"foreign origin", "https://evil.example", token, "", http.StatusForbidden},
		{"no origin", "", token, "", http.StatusForbidden},
		{"similar origin", "https://app.example.evil", token, "", http.StatusForbidden},
		{"no token", "https://app.example", "", "", http.StatusUnauthorized},
		{"wrong token", "https://app.example", "gt1.nope", "", http.StatusUnauthorized},
		{"rebound host", "https://app.example", token, "evil.example:80", http.StatusForbidden},
		{"allowed", "https://app.example", token, "", http.StatusSwitchingProtocols},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/?token="+tc.token, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// Any HTTP client reaches the same service on the HTTP socket.
func TestServeHTTP(t *testing.T) {
	h := openHub(t, config(t))
	if _, err := h.Create(ctxT(t), "nia", "nia password"); err != nil {
		t.Fatal(err)
	}
	serve(t, h)
	path := filepath.Join(filepath.Dir(h.Config().Socket), "hub-http.sock")
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	c := client.New(client.WithHTTPClient(hc))
	t.Cleanup(func() { c.Close() })
	index, err := c.Get(ctxT(t), "http://hub/")
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, index: index}
	var reg hub.Registration
	a.call("register", &reg, client.Named{"name": "curl"})
	a.token = reg.Token
	var id string
	a.call("new", &id, client.Named{"api": "test.http", "state": []byte("over http"), "dynamic": true})
	var obj hub.ObjectView
	a.call("get", &obj, id)
	if string(obj.State) != "over http" {
		t.Fatalf("get over HTTP: %+v", obj)
	}
}
