package peer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/vmihailenco/msgpack/v5"
)

// These tests put a glyph Conn against a baseline peer written here from
// duplex-wire.md alone: a raw WebSocket speaking JSON text frames by
// hand, in both roles, checking every frame exactly.

// rawPeer is the hand-written duplex peer.
type rawPeer struct {
	t      *testing.T
	c      *websocket.Conn
	ctx    context.Context
	inHTTP bool // running in an HTTP handler, not the test's goroutine
}

func (r *rawPeer) fatalf(format string, args ...any) {
	r.t.Helper()
	if r.inHTTP {
		r.t.Errorf(format, args...)
		panic(http.ErrAbortHandler)
	}
	r.t.Fatalf(format, args...)
}

func (r *rawPeer) send(s string) {
	r.t.Helper()
	if err := r.c.Write(r.ctx, websocket.MessageText, []byte(s)); err != nil {
		r.fatalf("raw send: %v", err)
	}
}

func (r *rawPeer) expect(want string) {
	r.t.Helper()
	typ, data, err := r.c.Read(r.ctx)
	if err != nil {
		r.fatalf("raw read, want %s: %v", want, err)
	}
	if typ != websocket.MessageText || string(data) != want {
		r.fatalf("raw peer got %v frame\n%s\nwant\n%s", typ, data, want)
	}
}

// glyphServer serves glyph Conns over WebSocket, as a duplex peer would
// find them.
func glyphServer(t *testing.T, cfg []peer.Option, opts ...peer.WebSocketOption) (url string, conns chan *peer.Conn) {
	return wrappedGlyphServer(t, cfg, func(fc peer.FrameConn) peer.FrameConn { return fc }, opts...)
}

// wrappedGlyphServer is glyphServer with each FrameConn wrapped by wrap.
func wrappedGlyphServer(t *testing.T, cfg []peer.Option, wrap func(peer.FrameConn) peer.FrameConn, opts ...peer.WebSocketOption) (url string, conns chan *peer.Conn) {
	conns = make(chan *peer.Conn, 4)
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		c, err := peer.Server(context.Background(), wrap(fc), cfg...)
		if err != nil {
			t.Errorf("server handshake: %v", err)
			return
		}
		conns <- c
	}, opts...))
	t.Cleanup(srv.Close)
	return "ws://" + strings.TrimPrefix(srv.URL, "http://"), conns
}

// dialBaseline connects the raw peer to the glyph server at url and
// greets it with codec, which the server accepts.
func dialBaseline(t *testing.T, url, codec string) *rawPeer {
	t.Helper()
	ctx := ctxTimeout(t, 10*time.Second)
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	r := &rawPeer{t, ws, ctx, false}
	r.send("SIMPLEX/1.0;" + codec)
	r.expect("+OK")
	return r
}

func TestBaselinePeerCallsGlyph(t *testing.T) {
	url, conns := glyphServer(t, []peer.Option{peer.WithHandler(services())})
	r := dialBaseline(t, url, "json")
	ws, ctx := r.c, r.ctx
	c := <-conns
	if c.Codec() != "json" || len(c.Extensions()) != 0 {
		t.Fatalf("glyph side: %s %v", c.Codec(), c.Extensions())
	}

	// 1. Call.
	r.send(`{"type":"req","method":"echo","payload":{"foo":"bar"},"id":1}`)
	r.expect(`{"type":"rep","payload":{"foo":"bar"},"id":1}`)
	// 2. Streamed results.
	r.send(`{"type":"req","method":"count","payload":3,"id":2}`)
	r.expect(`{"type":"rep","payload":1,"id":2,"more":true}`)
	r.expect(`{"type":"rep","payload":2,"id":2,"more":true}`)
	r.expect(`{"type":"rep","payload":3,"id":2}`)
	// 3. Streamed arguments, and both ways at once.
	r.send(`{"type":"req","method":"sum","payload":10,"id":3,"more":true}`)
	r.send(`{"type":"req","method":"sum","payload":20,"id":3}`)
	r.expect(`{"type":"rep","payload":30,"id":3}`)
	r.send(`{"type":"req","method":"upper","payload":"a","id":4,"more":true}`)
	r.send(`{"type":"req","method":"upper","payload":"b","id":4}`)
	r.expect(`{"type":"rep","payload":"A","id":4,"more":true}`)
	r.expect(`{"type":"rep","payload":"B","id":4}`)
	// A zero-argument streaming call sends one null; a streamed reply
	// with no items is one null reply.
	r.send(`{"type":"req","method":"count","payload":0,"id":5}`)
	r.expect(`{"type":"rep","payload":null,"id":5}`)
	// 4. Errors, also mid-stream.
	r.send(`{"type":"req","method":"fail","payload":null,"id":6}`)
	r.expect(`{"type":"rep","error":{"code":9,"message":"asked to"},"id":6}`)
	r.send(`{"type":"req","method":"failmid","payload":null,"id":7}`)
	r.expect(`{"type":"rep","payload":1,"id":7,"more":true}`)
	r.expect(`{"type":"rep","payload":2,"id":7,"more":true}`)
	r.expect(`{"type":"rep","error":{"code":3,"message":"broke after 2"},"id":7}`)
	// 5. Callback: glyph calls the raw peer with its own ids.
	r.send(`{"type":"req","method":"callback","payload":["_callback.e8be","hello"],"id":8}`)
	r.expect(`{"type":"req","method":"_callback.e8be","payload":"hello","id":1}`)
	r.send(`{"type":"rep","id":1,"payload":"HELLO"}`)
	r.expect(`{"type":"rep","payload":"HELLO","id":8}`)
	// 6. Metadata.
	r.send(`{"type":"req","method":"echo","payload":{"x":1},"id":9,"ext":{"trace":"abc123"}}`)
	r.expect(`{"type":"rep","payload":{"x":1},"id":9,"ext":{"trace":"abc123"}}`)
	// ... carried on to the calls the handler makes.
	r.send(`{"type":"req","method":"relay","payload":null,"id":10,"ext":{"trace":"t10"}}`)
	r.expect(`{"type":"req","method":"whoami","payload":null,"id":2,"ext":{"trace":"t10"}}`)
	r.send(`{"type":"rep","payload":"raw","id":2,"ext":{"trace":"t10"}}`)
	r.expect(`{"type":"rep","payload":"raw","id":10,"ext":{"trace":"t10"}}`)
	// 7. Notification: nothing comes back; an empty frame is a keepalive.
	r.send(`{"type":"req","method":"echo","payload":"unheard"}`)
	r.send(``)
	// What the baseline lacked: not found, bad frames, unknown ids.
	r.send(`{"type":"req","method":"nosuch","payload":null,"id":11}`)
	r.expect(`{"type":"rep","error":{"code":5,"message":"method not found: nosuch"},"id":11}`)
	r.send(`{"type":"req","method":"echo","id":12,"more":1}`)
	r.expect(`{"type":"rep","error":{"code":20,"message":"more is an integer, want a boolean"},"id":12}`)
	r.send(`{"type":"rep","payload":"nobody asked","id":99}`)
	r.send(`{"type":"req","method":"echo","payload":"still here","id":13}`)
	r.expect(`{"type":"rep","payload":"still here","id":13}`)
	// glyph calls the raw peer, which has no such method and says so its
	// own way; glyph never sends it an extension envelope or field.
	res := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		_, err := c.Call(cctx, "ping", nil, peer.Safe())
		res <- err
	}()
	r.expect(`{"type":"req","method":"ping","payload":null,"id":3}`)
	r.send(`{"type":"rep","error":{"code":-32601,"message":"no such method"},"id":3}`)
	err := <-res
	var re *peer.RemoteError
	if kindOf(t, err) != service.KindOther || !asRemote(err, &re) || re.Code != -32601 || !strings.Contains(err.Error(), "no such method") {
		t.Errorf("baseline error reply: %v", err)
	}
	// A req whose id cannot be read cannot be answered: the connection
	// closes, with a protocol error status that says why.
	r.send(`{"type":"req","method":"echo","id":"twelve"}`)
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusProtocolError {
		t.Errorf("after an unanswerable frame: %v", err)
	}
	<-c.Done()
	if kindOf(t, c.Err()) != service.KindBadFrame {
		t.Errorf("glyph side closed with %v", c.Err())
	}
}

// A user's wrapper of a FrameConn (one that counts frames, say). Only
// reasonWrapper implements peer.ReasonCloser.
type (
	plainWrapper  struct{ peer.FrameConn }
	reasonWrapper struct{ peer.FrameConn }
)

func (w reasonWrapper) CloseWithReason(reason error) error {
	return w.FrameConn.(peer.ReasonCloser).CloseWithReason(reason)
}

// A Conn closing because of a bad frame tells a WebSocket remote why, with
// a close status and reason, also through a wrapper of its FrameConn that
// passes the reason on.
func TestCloseReasonThroughWrapper(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wrap   func(peer.FrameConn) peer.FrameConn
		status websocket.StatusCode
	}{
		{"bare", func(fc peer.FrameConn) peer.FrameConn { return fc }, websocket.StatusProtocolError},
		{"wrapper passing the reason", func(fc peer.FrameConn) peer.FrameConn { return reasonWrapper{fc} }, websocket.StatusProtocolError},
		{"wrapper without CloseWithReason", func(fc peer.FrameConn) peer.FrameConn { return plainWrapper{fc} }, websocket.StatusNormalClosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, conns := wrappedGlyphServer(t, []peer.Option{peer.WithHandler(services())}, tc.wrap)
			r := dialBaseline(t, url, "json")
			c := <-conns
			r.send(`{"type":"req","method":"echo","payload":1,"id":1}`)
			r.expect(`{"type":"rep","payload":1,"id":1}`)
			r.send(`{"type":"req","method":"echo","id":"twelve"}`)
			_, _, err := r.c.Read(r.ctx)
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.status {
				t.Fatalf("after an unanswerable frame: %v, want close status %v", err, tc.status)
			}
			if tc.status == websocket.StatusProtocolError && !strings.Contains(ce.Reason, "id") {
				t.Errorf("close reason %q does not say what was wrong", ce.Reason)
			}
			<-c.Done()
			if kindOf(t, c.Err()) != service.KindBadFrame {
				t.Errorf("glyph side closed with %v", c.Err())
			}
		})
	}
}

// A baseline peer has no ping envelope, but over WebSocket glyph keeps
// the connection alive with WebSocket pings, which any WebSocket library
// answers while it reads: an idle live peer stays connected, one that
// stopped reading is found dead.
func TestBaselineKeepAlive(t *testing.T) {
	cfg := []peer.Option{peer.WithHandler(services()), peer.WithKeepAlive(20*time.Millisecond, 250*time.Millisecond)}
	dial := func(t *testing.T) (*rawPeer, *peer.Conn) {
		url, conns := glyphServer(t, cfg)
		r := dialBaseline(t, url, "json")
		return r, <-conns
	}
	t.Run("live", func(t *testing.T) {
		r, c := dial(t)
		// The peer reads all along (its library answers pings inside
		// Read); what it reads goes to frames.
		frames := make(chan string, 1)
		go func() {
			for {
				_, data, err := r.c.Read(r.ctx)
				if err != nil {
					close(frames)
					return
				}
				frames <- string(data)
			}
		}()
		// 25 keepalive periods, idle.
		holds(t, "an idle live baseline peer stays connected", 500*time.Millisecond, func() bool { return c.Err() == nil })
		r.send(`{"type":"req","method":"echo","payload":"alive","id":1}`)
		if got := <-frames; got != `{"type":"rep","payload":"alive","id":1}` {
			t.Errorf("after idling: %q", got)
		}
	})
	t.Run("stopped reading", func(t *testing.T) {
		_, c := dial(t)
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a baseline peer that stopped reading was not found dead")
		}
		if err := c.Err(); kindOf(t, err) != service.KindUnavailable || !strings.Contains(err.Error(), "keepalive") {
			t.Errorf("Err = %v, want a keepalive Unavailable", err)
		}
	})
}

func asRemote(err error, re **peer.RemoteError) bool {
	for e := err; e != nil; {
		if r, ok := e.(*peer.RemoteError); ok {
			*re = r
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestBaselinePeerMsgpack(t *testing.T) {
	url, _ := glyphServer(t, []peer.Option{peer.WithHandler(services())})
	r := dialBaseline(t, url, "msgpack")
	ws, ctx := r.c, r.ctx
	// 8. The same maps in binary frames, as a msgpack library writes them.
	req, _ := msgpack.Marshal(map[string]any{"type": "req", "method": "echo", "payload": map[string]any{"n": 1}, "id": 1})
	if err := ws.Write(ctx, websocket.MessageBinary, req); err != nil {
		t.Fatal(err)
	}
	typ, data, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageBinary {
		t.Fatalf("reply %v %v", typ, err)
	}
	var rep map[string]any
	if err := msgpack.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep) != 3 || rep["type"] != "rep" || !eq(rep["payload"], map[string]any{"n": 1}) || !eq(rep["id"], 1) {
		t.Errorf("msgpack reply %v", rep)
	}
}

func TestGlyphCallsBaselinePeer(t *testing.T) {
	ctx := ctxTimeout(t, 10*time.Second)
	done, bye := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer close(done)
		ws, err := websocket.Accept(w, req, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer ws.CloseNow()
		r := &rawPeer{t, ws, ctx, true}
		// A duplex acceptor ignores the greeting and answers +OK.
		if _, _, err := ws.Read(ctx); err != nil {
			t.Error(err)
			return
		}
		r.send("+OK")
		r.expect(`{"type":"req","method":"echo","payload":{"foo":"bar"},"id":1}`)
		r.send(`{"type":"rep","id":1,"payload":{"foo":"bar"}}`)
		// A call with a deadline and a header: no timeout field, the ext
		// as it is; canceled: no cancel envelope follows.
		r.expect(`{"type":"req","method":"slow","payload":[1,"two"],"id":2,"ext":{"trace":"x"}}`)
		// Streamed arguments hold one back so the last goes without more.
		r.expect(`{"type":"req","method":"sum","payload":1,"id":3,"more":true}`)
		r.expect(`{"type":"req","method":"sum","payload":2,"id":3}`)
		r.send(`{"type":"rep","payload":1,"id":3,"more":true}`)
		r.send(`{"type":"rep","payload":2,"id":3}`)
		// The late reply to the canceled call is ignored.
		r.send(`{"type":"rep","payload":"late","id":2}`)
		// The acceptor calls the connector.
		r.send(`{"type":"req","method":"upper","payload":"x","id":1}`)
		r.expect(`{"type":"rep","payload":"X","id":1}`)
		r.send(`{"type":"req","method":"nosuch","id":2}`)
		r.expect(`{"type":"rep","error":{"code":5,"message":"method not found: nosuch"},"id":2}`)
		close(bye)
		r.expect(`{"type":"req","method":"bye","payload":null}`)
	}))
	defer srv.Close()
	fc, err := peer.Dial(ctx, "ws://"+strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	h := services()
	h["upper"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		v, _ := s.Recv()
		return strings.ToUpper(v.(string)), nil
	}
	c, err := peer.Client(ctx, fc, peer.WithHandler(mux{"upper": h["upper"]}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Codec() != "json" || len(c.Extensions()) != 0 {
		t.Fatalf("against a baseline acceptor: %s %v", c.Codec(), c.Extensions())
	}
	v, err := c.Call(ctx, "echo", map[string]any{"foo": "bar"})
	if err != nil || !eq(v, map[string]any{"foo": "bar"}) {
		t.Fatalf("echo: %v %v", v, err)
	}
	sctx, cancel := context.WithTimeout(peer.WithHeader(ctx, map[string]string{"trace": "x"}), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Call(sctx, "slow", []any{1, "two"}); kindOf(t, err) != service.KindDeadlineExceeded {
		t.Fatalf("slow: %v", err)
	}
	s, _ := c.NewStream(ctx, "sum")
	s.Send(1)
	s.Send(2)
	s.CloseSend()
	got, err := recvAll(s)
	if err != nil || !eq(got, []any{int64(1), int64(2)}) {
		t.Fatalf("stream: %v %v", got, err)
	}
	select {
	case <-bye:
	case <-ctx.Done():
		t.Fatal("the raw peer stopped early")
	}
	if err := c.Notify(ctx, "bye", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the raw peer did not finish")
	}
}

func TestWebSocketOrigins(t *testing.T) {
	url, conns := glyphServer(t, []peer.Option{peer.WithHandler(services())}, peer.WithAllowedOrigins("app.example.com"))
	ctx := ctxTimeout(t, 10*time.Second)
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{"https://app.example.com", true},
		{"http://" + strings.TrimPrefix(url, "ws://"), true}, // the server's own host
		{"https://evil.example.net", false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		fc, err := peer.Dial(ctx, url, peer.WithHTTPHeader(h))
		if !tt.ok {
			if kindOf(t, err) != service.KindPermissionDenied {
				t.Errorf("origin %q: %v", tt.origin, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("origin %q: %v", tt.origin, err)
			continue
		}
		c, err := peer.Client(ctx, fc)
		if err != nil {
			t.Fatal(err)
		}
		srv := <-conns
		if v, err := c.Call(ctx, "echo", "hi"); err != nil || v != "hi" {
			t.Errorf("origin %q: echo %v %v", tt.origin, v, err)
		}
		c.Close()
		srv.Close()
	}
}
