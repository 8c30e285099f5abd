package supervisor

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second}, // capped at max
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(100*time.Millisecond, time.Second, tt.n)
			if d < tt.min || d > tt.max {
				t.Fatalf("backoff #%d = %s, want %s to %s", tt.n, d, tt.min, tt.max)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff #%d: %d distinct waits in 200: no jitter", tt.n, len(seen))
		}
	}
}

func TestLogFormat(t *testing.T) {
	tests := []struct {
		name  string
		color bool
		text  string
		want  string
	}{
		{"plain", false, "hello", "Echo/0 | hello\n"},
		{"json piped", false, `{"level":"INFO","msg":"serving"}`, `{"process":"Echo/0","level":"INFO","msg":"serving"}` + "\n"},
		{"empty json", false, `{}`, `{"process":"Echo/0"}` + "\n"},
		{"not json", false, `{"broken`, "Echo/0 | {\"broken\n"},
		{"terminal", true, "hello", "\x1b[36mEcho/0 |\x1b[0m hello\n"},
		{"json on a terminal", true, `{"a":1}`, "\x1b[36mEcho/0 |\x1b[0m {\"a\":1}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newLogMux(nil, tt.color)
			m.add("Echo/0")
			if got := string(m.format(LogLine{Process: "Echo/0", Text: tt.text})); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
		})
	}
}

// The control socket takes connections from its owner's processes only:
// the peer's uid comes from the kernel (SO_PEERCRED on Linux).
func TestOwnerListener(t *testing.T) {
	dir, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	nl, err := net.Listen("unix", filepath.Join(dir, "c.sock"))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(b)
	}), nil))
	for _, tt := range []struct {
		name   string
		uid    int
		accept bool
	}{{"owner", os.Getuid(), true}, {"another user", os.Getuid() + 1, false}} { // the last one's Accept ends with nl.Close
		l := &ownerListener{Listener: nl, uid: tt.uid, logger: logger}
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := l.Accept(); err == nil {
				accepted <- c
			}
		}()
		c, err := net.Dial("unix", nl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if tt.accept {
			select {
			case sc := <-accepted:
				sc.Close()
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: not accepted", tt.name)
			}
		} else {
			// The supervisor's side closes it: the client reads EOF.
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatalf("%s: the connection stays open", tt.name)
			}
			mu.Lock()
			got := logged.String()
			mu.Unlock()
			if !strings.Contains(got, "refused a control connection from another user") {
				t.Fatalf("%s: not logged: %q", tt.name, got)
			}
		}
		c.Close()
	}
	nl.Close()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
