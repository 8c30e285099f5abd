package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// specState is the glyph side's state in a transcript.
type specState struct {
	mu       sync.Mutex
	logged   []any
	logCh    chan struct{}
	started  chan struct{}
	release  chan struct{}
	canceled chan string
}

func specHandlers(st *specState) mux {
	h := services()
	h["count"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		n, _ := s.Recv()
		for i := int64(1); i <= n.(int64); i++ {
			if err := s.Send(map[string]any{"num": i}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	h["fail"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, &service.Error{Message: "Test message", Err: &peer.RemoteError{Code: 1000, Data: map[string]any{"why": "asked to"}}}
	}
	h["log"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		v, _ := s.Recv()
		st.mu.Lock()
		st.logged = append(st.logged, v)
		st.mu.Unlock()
		st.logCh <- struct{}{}
		return nil, nil
	}
	h["logged"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		select {
		case <-st.logCh:
		case <-time.After(5 * time.Second):
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return append([]any(nil), st.logged...), nil
	}
	h["wait"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		st.started <- struct{}{}
		select {
		case <-ctx.Done():
			st.canceled <- context.Cause(ctx).Error()
			return nil, ctx.Err()
		case <-st.release:
			return "released", nil
		}
	}
	h["canceled"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		select {
		case why := <-st.canceled:
			return why, nil
		case <-time.After(5 * time.Second):
			return nil, errors.New("wait was not canceled")
		}
	}
	h["deadline"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		d, ok := ctx.Deadline()
		return ok && time.Until(d) <= 1500*time.Millisecond, nil
	}
	h["safe"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return s.Safe(), nil
	}
	return h
}

type stepResult struct {
	v   any
	err error
}

func TestSpecTranscripts(t *testing.T) {
	for _, b := range specBlocks(t, "transcript") {
		t.Run(strconv.Itoa(b.start), func(t *testing.T) { runTranscript(t, b) })
	}
}

func runTranscript(t *testing.T, b specBlock) {
	opts := map[string]string{}
	for _, w := range b.info[1:] {
		k, v, _ := strings.Cut(w, "=")
		opts[k] = v
	}
	wire := codec(t, "json")
	if opts["codec"] != "" {
		wire = codec(t, opts["codec"])
	}
	st := &specState{logCh: make(chan struct{}, 16), started: make(chan struct{}, 16), release: make(chan struct{}), canceled: make(chan string, 16)}
	cfg := []peer.Option{peer.WithHandler(specHandlers(st))}
	if w := opts["window"]; w != "" {
		n, _ := strconv.Atoi(w)
		cfg = append(cfg, peer.WithStreamWindow(n))
	}
	if w := opts["connwindow"]; w != "" {
		n, _ := strconv.Atoi(w)
		cfg = append(cfg, peer.WithConnWindow(n))
	}
	glyph, raw := peer.Pipe()
	defer raw.Close()
	ctx := ctxTimeout(t, 10*time.Second)
	results := make(chan stepResult, 16)
	conns := make(chan *peer.Conn, 1)
	go func() {
		var c *peer.Conn
		var err error
		if opts["glyph"] == "client" {
			c, err = peer.Client(ctx, glyph, cfg...)
		} else {
			c, err = peer.Server(ctx, glyph, cfg...)
		}
		if err != nil {
			results <- stepResult{nil, err}
			return
		}
		conns <- c
	}()
	var conn *peer.Conn
	getConn := func(l specLine) *peer.Conn {
		if conn == nil {
			select {
			case conn = <-conns:
				t.Cleanup(func() { conn.Close() })
			case <-ctx.Done():
				t.Fatalf("spec.md:%d: no connection", l.n)
			}
		}
		return conn
	}
	// arg decodes a JSON value the way the JSON codec does.
	arg := func(l specLine, s string) any {
		return fromJSON(t, l, `{"type":"rep","id":1,"payload":`+s+`}`).Payload
	}
	for _, l := range b.lines {
		dir, text, _ := strings.Cut(l.text, " ")
		switch dir {
		case ">":
			f := peer.Frame{Data: []byte(text), Text: true}
			if strings.HasPrefix(text, "{") && wire.Binary() {
				f = peer.Frame{Data: marshal(t, l, wire, fromJSON(t, l, text)), Text: !wire.Binary()}
			}
			if err := raw.WriteFrames(ctx, []peer.Frame{f}); err != nil {
				t.Fatalf("spec.md:%d: write: %v", l.n, err)
			}
		case "<":
			f, err := raw.ReadFrame(ctx)
			if text == "CLOSE" {
				if err != io.EOF {
					t.Fatalf("spec.md:%d: want the connection closed, got %q, %v", l.n, f.Data, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("spec.md:%d: read: %v", l.n, err)
			}
			want := peer.Frame{Data: []byte(text), Text: true}
			if strings.HasPrefix(text, "{") {
				want = peer.Frame{Data: marshal(t, l, wire, fromJSON(t, l, text)), Text: !wire.Binary()}
			}
			if !bytes.Equal(f.Data, want.Data) || f.Text != want.Text {
				got := string(f.Data)
				if wire.Binary() && !f.Text {
					var env peer.Envelope
					if err := wire.Unmarshal(f.Data, &env); err == nil {
						got = string(marshal(t, l, codec(t, "json"), &env)) + " (as JSON)"
					}
				}
				t.Fatalf("spec.md:%d: got\n%s\nwant\n%s", l.n, got, text)
			}
		case "!":
			words := strings.Fields(text)
			switch words[0] {
			case "call":
				c := getConn(l)
				a := arg(l, words[2])
				go func() {
					v, err := c.Call(ctx, words[1], a)
					results <- stepResult{v, err}
				}()
			case "stream":
				c := getConn(l)
				var args []any
				for _, w := range words[2:] {
					args = append(args, arg(l, w))
				}
				go func() {
					s, err := c.NewStream(ctx, words[1])
					if err != nil {
						results <- stepResult{nil, err}
						return
					}
					for _, a := range args {
						s.Send(a)
					}
					s.CloseSend()
					v, err := recvAll(s)
					results <- stepResult{v, err}
				}()
			case "callstream":
				c := getConn(l)
				a := arg(l, words[2])
				go func() {
					s, err := c.CallStream(ctx, words[1], a)
					if err != nil {
						results <- stepResult{nil, err}
						return
					}
					v, err := recvAll(s)
					results <- stepResult{v, err}
				}()
			case "notify":
				c := getConn(l)
				results <- stepResult{nil, c.Notify(ctx, words[1], arg(l, words[2]))}
				<-results
			case "started":
				select {
				case <-st.started:
				case <-ctx.Done():
					t.Fatalf("spec.md:%d: wait did not start", l.n)
				}
			case "release":
				close(st.release)
			case "shutdown":
				c := getConn(l)
				go c.Shutdown(ctx)
			default:
				t.Fatalf("spec.md:%d: unknown step %q", l.n, words[0])
			}
		case "=":
			var r stepResult
			select {
			case r = <-results:
			case <-ctx.Done():
				t.Fatalf("spec.md:%d: no result", l.n)
			}
			var got string
			if r.err != nil {
				got = "error: " + r.err.Error()
			} else {
				b, err := json.Marshal(r.v)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if got != text {
				t.Errorf("spec.md:%d: result %s, want %s", l.n, got, text)
			}
		default:
			t.Fatalf("spec.md:%d: unknown line", l.n)
		}
	}
}
