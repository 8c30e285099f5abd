package telemeter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/link"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// transcript writes the demo's lines to w and lets the demo wait for a
// line that contains a text.
type transcript struct {
	mu    sync.Mutex // guards w, lines and waits
	w     io.Writer
	lines []string
	wake  chan struct{}
}

func (t *transcript) say(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(t.w, line)
	t.lines = append(t.lines, line)
	close(t.wake)
	t.wake = make(chan struct{})
}

// await waits for a line, said after line from, that contains text.
func (t *transcript) await(ctx context.Context, from int, text string, within time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		t.mu.Lock()
		for i := from; i < len(t.lines); i++ {
			if strings.Contains(t.lines[i], text) {
				t.mu.Unlock()
				return i + 1, nil
			}
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no %q within %v", text, within)
		case <-wake:
		}
	}
}

func (t *transcript) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.lines)
}

// demoDaemon is a daemon of the demo with its account and socket.
type demoDaemon struct {
	h    *hub.Hub
	cfg  *hub.Config
	stop func()
}

func startDemoDaemon(ctx context.Context, dir, name, remoteURL string) (*demoDaemon, error) {
	cfg := &hub.Config{Store: filepath.Join(dir, name, "store"), Socket: filepath.Join(dir, name, "run", "hub.sock"), LogLevel: "error",
		Remotes: []hub.RemoteConfig{{URL: remoteURL}}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := hub.Open(ctx, cfg, hub.WithLogger(log), hub.WithBackoff(20*time.Millisecond, time.Second))
	if err != nil {
		return nil, err
	}
	if _, err := h.Create(ctx, name, name+" demo password"); err != nil {
		h.Close()
		return nil, err
	}
	if err := h.Drained(ctx); err != nil {
		h.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- h.Serve(sctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		h.Close()
		return nil, err
	}
	return &demoDaemon{h: h, cfg: cfg, stop: func() { cancel(); <-done; h.Close() }}, nil
}

// RunDemo runs one remote, three daemons of three identities (a
// telemeter's host, a monitor, and mallory, who pairs second) and the two
// applications on this machine, and writes a transcript to w, checking
// each step: the monitor pairs and gets statuses, changes the interval
// and the telemeter follows, mallory's pairing is ignored. With once it
// returns after the checks; otherwise the monitor keeps printing
// statuses until ctx ends.
func RunDemo(ctx context.Context, w io.Writer, once bool) error {
	t := &transcript{w: w, wake: make(chan struct{})}
	dir, err := os.MkdirTemp("", "glyph-telemeter")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "remote"))
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv, err := remote.New(st, ln.Addr().String(), remote.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := hyperhttp.NewServer("", srv.Handler())
	go hs.Serve(ln)
	defer hs.Close()
	remoteURL := "ws://" + ln.Addr().String() + "/peer"
	t.say("remote: a persistence server at %s (it stores ciphertext only)", remoteURL)

	links := map[string]*link.Link{}
	for _, name := range []string{"telemeter", "monitor", "mallory"} {
		d, err := startDemoDaemon(ctx, dir, name, remoteURL)
		if err != nil {
			return fmt.Errorf("daemon %s: %w", name, err)
		}
		defer d.stop()
		l, err := link.Dial(ctx, link.WithSocket(d.cfg.Socket), link.WithName(name))
		if err != nil {
			return err
		}
		defer l.Close()
		fp, err := l.Whoami(ctx)
		if err != nil {
			return err
		}
		t.say("%s: a daemon with its own account, identity %s", name, short(fp))
		links[name] = l
	}
	telemeterFP, _ := links["telemeter"].Whoami(ctx)

	sampler := NewSampler()
	tm := NewTelemeter(links["telemeter"], 300*time.Millisecond, sampler.Sample, func(s string) { t.say("%s", s) })
	tctx, tcancel := context.WithCancel(ctx)
	defer tcancel()
	terr := make(chan error, 1)
	go func() { terr <- tm.Run(tctx) }()
	if _, err := t.await(ctx, 0, "telemeter: waiting for a monitor", 10*time.Second); err != nil {
		return err
	}

	mon := NewMonitor(links["monitor"], func(s string) { t.say("%s", s) })
	statuses := make(chan Status, 64)
	if err := mon.Pair(ctx, telemeterFP, 200*time.Millisecond, func(s Status) {
		t.say("monitor: %s", s)
		select {
		case statuses <- s:
		default:
		}
	}); err != nil {
		return err
	}
	t.say("monitor: shared a settings object (interval 200ms) and a pairing object with the telemeter")
	if _, err := t.await(ctx, 0, "telemeter: paired with", 20*time.Second); err != nil {
		return err
	}
	if _, err := t.await(ctx, 0, "telemeter: interval now 200ms", 20*time.Second); err != nil {
		return err
	}
	last, err := expectStatuses(ctx, statuses, 3, 0)
	if err != nil {
		return err
	}

	mark := t.len()
	if err := mon.SetInterval(ctx, 100*time.Millisecond); err != nil {
		return err
	}
	t.say("monitor: set the interval to 100ms")
	if _, err := t.await(ctx, mark, "telemeter: interval now 100ms", 20*time.Second); err != nil {
		return err
	}
	if _, err = expectStatuses(ctx, statuses, 3, last); err != nil {
		return err
	}

	mark = t.len()
	malloryFP, _ := links["mallory"].Whoami(ctx)
	ms, err := link.New(ctx, links["mallory"], link.JSON[Settings](), APISettings, Settings{IntervalMS: 10})
	if err != nil {
		return err
	}
	if err := SharePairing(ctx, links["mallory"], telemeterFP, ms.ID()); err != nil {
		return err
	}
	t.say("mallory: shared a pairing object with the telemeter too")
	if _, err := t.await(ctx, mark, "telemeter: ignored a pairing from "+short(malloryFP), 20*time.Second); err != nil {
		return err
	}
	if tm.Interval() != 100*time.Millisecond {
		return fmt.Errorf("mallory changed the interval to %v", tm.Interval())
	}
	t.say("demo: ok: paired on first contact, statuses delivered, the interval followed, mallory ignored")
	if !once {
		t.say("the monitor keeps printing statuses until Ctrl-C")
		<-ctx.Done()
	}
	tcancel()
	return <-terr
}

// expectStatuses waits for n statuses after the one numbered after, each
// newer than the one before, with a host and memory.
func expectStatuses(ctx context.Context, ch <-chan Status, n, after int) (int, error) {
	timeout := time.After(30 * time.Second)
	for got := 0; got < n; {
		select {
		case s := <-ch:
			if s.Seq <= after {
				continue
			}
			if s.MemTotal == 0 || s.At.IsZero() {
				return after, fmt.Errorf("status %d without memory or time: %+v", s.Seq, s)
			}
			after = s.Seq
			got++
		case <-timeout:
			return after, fmt.Errorf("%d statuses did not come within 30s", n)
		case <-ctx.Done():
			return after, ctx.Err()
		}
	}
	return after, nil
}
