package peer_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// rawConn is the raw end of a pipe whose other end is a glyph Conn,
// speaking JSON text frames by hand.
type rawConn struct {
	t  *testing.T
	fc peer.FrameConn
}

func (r rawConn) send(s string) {
	r.t.Helper()
	if err := r.fc.WriteFrames(ctxTimeout(r.t, 5*time.Second), []peer.Frame{{Data: []byte(s), Text: true}}); err != nil {
		r.t.Fatalf("send %s: %v", s, err)
	}
}

func (r rawConn) expect(want string) {
	r.t.Helper()
	f, err := r.fc.ReadFrame(ctxTimeout(r.t, 5*time.Second))
	if err != nil {
		r.t.Fatalf("want %s: %v", want, err)
	}
	if string(f.Data) != want {
		r.t.Fatalf("got\n%s\nwant\n%s", f.Data, want)
	}
}

// rawToServer connects a raw peer with greeting to a glyph Server.
func rawToServer(t *testing.T, cfg []peer.Option, greeting string) (rawConn, *peer.Conn) {
	t.Helper()
	glyph, raw := peer.Pipe()
	t.Cleanup(func() { raw.Close() })
	conns := make(chan *peer.Conn, 1)
	go func() {
		c, err := peer.Server(context.Background(), glyph, cfg...)
		if err != nil {
			t.Errorf("server: %v", err)
		}
		conns <- c
	}()
	r := rawConn{t, raw}
	r.send(greeting)
	f, err := raw.ReadFrame(ctxTimeout(t, 5*time.Second))
	if err != nil || !strings.HasPrefix(string(f.Data), "+OK") {
		t.Fatalf("answer %q %v", f.Data, err)
	}
	c := <-conns
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	return r, c
}

const extGreeting = "SIMPLEX/1.0;json;glyph-codecs=json;glyph-ext=cancel,deadline,end,goaway,ping,safe,window;glyph-stream-window=100"

func TestBadReplyFailsTheCall(t *testing.T) {
	glyph, raw := peer.Pipe()
	defer raw.Close()
	go func() {
		ctx := context.Background()
		raw.ReadFrame(ctx)
		raw.WriteFrames(ctx, []peer.Frame{{Data: []byte("+OK"), Text: true}})
		raw.ReadFrame(ctx) // the call
		raw.WriteFrames(ctx, []peer.Frame{{Data: []byte(`{"type":"rep","payload":1,"id":1,"more":"maybe"}`), Text: true}})
		raw.ReadFrame(ctx)
		raw.WriteFrames(ctx, []peer.Frame{{Data: []byte(`{"type":"rep","payload":2,"id":2}`), Text: true}})
	}()
	c, err := peer.Client(ctxTimeout(t, 5*time.Second), glyph)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Call(ctxTimeout(t, 5*time.Second), "x", nil)
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindBadFrame || !strings.Contains(se.Message, "more is a string") {
		t.Fatalf("bad reply: %v", err)
	}
	if v, err := c.Call(ctxTimeout(t, 5*time.Second), "x", nil); err != nil || v != int64(2) {
		t.Fatalf("next call: %v %v", v, err)
	}
}

func TestBadArgumentFailsTheStream(t *testing.T) {
	r, _ := rawToServer(t, []peer.Option{peer.WithHandler(services())}, "SIMPLEX/1.0;json")
	r.send(`{"type":"req","method":"sum","payload":1,"id":1,"more":true}`)
	r.send(`{"type":"req","method":"sum","payload":2,"id":1,"more":"x"}`)
	r.expect(`{"type":"rep","error":{"code":20,"message":"more is a string, want a boolean","data":{"op":"sum"}},"id":1}`)
	// The rest of the failed stream is dropped, not started anew.
	r.send(`{"type":"req","method":"sum","payload":3,"id":1}`)
	r.send(`{"type":"req","method":"echo","payload":"on","id":2}`)
	r.expect(`{"type":"rep","payload":"on","id":2}`)
}

func TestTooManyStreams(t *testing.T) {
	b := newBlocker()
	r, _ := rawToServer(t, []peer.Option{peer.WithHandler(b), peer.WithMaxStreams(2)}, "SIMPLEX/1.0;json")
	r.send(`{"type":"req","method":"wait","payload":null,"id":1}`)
	r.send(`{"type":"req","method":"wait","payload":null,"id":2}`)
	<-b.started
	<-b.started
	r.send(`{"type":"req","method":"wait","payload":null,"id":3}`)
	r.expect(`{"type":"rep","error":{"code":8,"message":"too many calls at once (2)","data":{"op":"wait"}},"id":3}`)
	close(b.release)
	got := map[string]bool{}
	for range 2 {
		f, err := r.fc.ReadFrame(ctxTimeout(t, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got[string(f.Data)] = true
	}
	if !got[`{"type":"rep","payload":"released","id":1}`] || !got[`{"type":"rep","payload":"released","id":2}`] {
		t.Errorf("replies %v", got)
	}
}

// A baseline caller that floods a handler which does not read: the
// stream fails with Overloaded once its buffer is full, the connection
// carries on, and the rest of the stream is dropped.
func TestBaselineArgumentOverflow(t *testing.T) {
	read := make(chan struct{})
	h := services()
	h["lazy"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		select {
		case <-read:
		case <-ctx.Done():
		}
		for {
			if _, err := s.Recv(); err != nil {
				return nil, err
			}
		}
	}
	r, _ := rawToServer(t, []peer.Option{peer.WithHandler(h), peer.WithMaxBuffered(3)}, "SIMPLEX/1.0;json")
	for range 4 {
		r.send(`{"type":"req","method":"lazy","payload":0,"id":1,"more":true}`)
	}
	r.expect(`{"type":"rep","error":{"code":8,"message":"more than 3 arguments unread","data":{"op":"lazy"}},"id":1}`)
	r.send(`{"type":"req","method":"lazy","payload":0,"id":1}`)
	close(read)
	r.send(`{"type":"req","method":"echo","payload":"on","id":2}`)
	r.expect(`{"type":"rep","payload":"on","id":2}`)
}

// Under flow control a caller that starts a message while it has no
// credit left breaks the protocol: its stream fails with Overloaded.
func TestFlowViolation(t *testing.T) {
	read := make(chan struct{})
	h := services()
	h["lazy"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		<-read
		return nil, nil
	}
	defer close(read)
	r, c := rawToServer(t, []peer.Option{peer.WithHandler(h), peer.WithStreamWindow(100)}, extGreeting)
	if strings.Join(c.Extensions(), ",") != "cancel,deadline,end,goaway,ping,safe,window" {
		t.Fatalf("extensions %v", c.Extensions())
	}
	// 61 bytes each: the first fits the window of 100, the second starts
	// while 61 are held, the third while 122 are.
	for range 3 {
		r.send(`{"type":"req","method":"lazy","payload":0,"id":1,"more":true}`)
	}
	r.expect(`{"type":"rep","error":{"code":8,"message":"arguments sent past the window of 100 bytes","data":{"op":"lazy"}},"id":1}`)
}

// An extension envelope on a baseline connection closes it.
func TestExtensionWithoutNegotiation(t *testing.T) {
	r, c := rawToServer(t, []peer.Option{peer.WithHandler(services())}, "SIMPLEX/1.0;json")
	r.send(`{"type":"cancel","id":1}`)
	if _, err := r.fc.ReadFrame(ctxTimeout(t, 5*time.Second)); err != io.EOF {
		t.Fatalf("want the connection closed: %v", err)
	}
	<-c.Done()
	if kindOf(t, c.Err()) != service.KindBadFrame || !strings.Contains(c.Err().Error(), `"cancel"`) {
		t.Errorf("Err = %v", c.Err())
	}
}

// Replies to unknown ids, late credit and ends for finished calls are
// ignored.
func TestUnknownIDsIgnored(t *testing.T) {
	r, _ := rawToServer(t, []peer.Option{peer.WithHandler(services())}, extGreeting)
	for _, s := range []string{
		`{"type":"rep","payload":1,"id":5}`,
		`{"type":"repend","id":5}`,
		`{"type":"reqcredit","id":5,"credit":1}`,
		`{"type":"cancel","id":5}`,
		`{"type":"reqend","id":5}`,
		`{"type":"repcredit","id":5,"credit":3}`,
		`{"type":"pong","id":5}`,
	} {
		r.send(s)
	}
	r.send(`{"type":"req","method":"echo","payload":"on","id":6}`)
	r.expect(`{"type":"rep","payload":"on","id":6}`)
}

// The remote's goaway stops new calls on this side at once.
func TestGoawayReceived(t *testing.T) {
	r, c := rawToServer(t, []peer.Option{peer.WithHandler(services())}, extGreeting)
	r.send(`{"type":"goaway","id":0}`)
	r.send(`{"type":"req","method":"echo","payload":"sync","id":1}`)
	r.expect(`{"type":"rep","payload":"sync","id":1}`)
	_, err := c.Call(ctxTimeout(t, 5*time.Second), "x", nil)
	if !peer.Retryable(err) || !strings.Contains(err.Error(), "going away") {
		t.Errorf("call after goaway: %v", err)
	}
}

// A remote that keeps calling but never reads the replies cannot make
// the connection queue without bound: it is no longer read from, then
// closed as Overloaded once it has read nothing for StallTimeout.
func TestRemoteThatDoesNotRead(t *testing.T) {
	r, c := rawToServer(t, []peer.Option{peer.WithStallTimeout(time.Second)}, "SIMPLEX/1.0;json")
	req := []byte(`{"type":"req","method":"` + strings.Repeat("m", 4000) + `","payload":null,"id":1}`)
	batch := make([]peer.Frame, 100)
	for i := range batch {
		batch[i] = peer.Frame{Data: req, Text: true}
	}
	ctx := ctxTimeout(t, 20*time.Second)
	for i := 0; i < 100; i++ {
		if err := r.fc.WriteFrames(ctx, batch); err != nil {
			break
		}
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("the connection is still queueing")
	}
	if kindOf(t, c.Err()) != service.KindOverloaded {
		t.Errorf("Err = %v", c.Err())
	}
}

// A streamed call refused at its first message is answered once; its
// other arguments are dropped, not taken for a new call.
func TestRefusedStreamAnsweredOnce(t *testing.T) {
	r, _ := rawToServer(t, []peer.Option{peer.WithHandler(services())}, "SIMPLEX/1.0;json")
	r.send(`{"type":"req","method":"nosuch","payload":1,"id":1,"more":true}`)
	r.expect(`{"type":"rep","error":{"code":5,"message":"method not found: nosuch"},"id":1}`)
	r.send(`{"type":"req","method":"nosuch","payload":2,"id":1,"more":true}`)
	r.send(`{"type":"req","method":"nosuch","payload":3,"id":1}`)
	// A first message that does not validate: whatever follows under its
	// id is not a new call either.
	r.send(`{"type":"req","method":"sum","payload":1,"id":2,"more":"x"}`)
	r.expect(`{"type":"rep","error":{"code":20,"message":"more is a string, want a boolean"},"id":2}`)
	r.send(`{"type":"req","method":"sum","payload":5,"id":2}`)
	r.send(`{"type":"req","method":"echo","payload":"next","id":3}`)
	r.expect(`{"type":"rep","payload":"next","id":3}`)
}
