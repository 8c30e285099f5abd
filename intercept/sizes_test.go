package intercept_test

import (
	"context"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// TestSizesNil: a transport that does not count leaves Call.Sizes nil,
// whose methods do nothing and whose OnEnd says f will not run.
func TestSizesNil(t *testing.T) {
	var s *intercept.Sizes
	s.AddIn(3)
	s.AddOut(4)
	s.End()
	if s.In() != 0 || s.Out() != 0 {
		t.Errorf("nil Sizes counts %d in, %d out", s.In(), s.Out())
	}
	if s.OnEnd(func(int64, int64) { t.Error("OnEnd ran on a nil Sizes") }) {
		t.Error("OnEnd on a nil Sizes reports that f will run")
	}
}

// TestSizesEnd: the functions registered before End run once, in order,
// with the final numbers; one registered after End runs at once.
func TestSizesEnd(t *testing.T) {
	var s intercept.Sizes
	var got []string
	s.AddIn(10)
	s.OnEnd(func(in, out int64) { got = append(got, "first") })
	s.OnEnd(func(in, out int64) {
		if in != 10 || out != 25 {
			t.Errorf("OnEnd saw %d in, %d out, want 10 and 25", in, out)
		}
		got = append(got, "second")
	})
	s.AddOut(25)
	if len(got) != 0 {
		t.Fatalf("OnEnd functions ran before End: %v", got)
	}
	s.End()
	s.End()
	if strings.Join(got, ",") != "first,second" {
		t.Errorf("ran %v, want first,second once each", got)
	}
	ran := false
	if !s.OnEnd(func(in, out int64) { ran = in == 10 && out == 25 }) || !ran {
		t.Error("OnEnd after End did not run at once with the final numbers")
	}
}

// sizesSeen records the final Sizes of each call on the serving side.
type sizesSeen struct {
	mu   sync.Mutex
	seen map[string][2]int64
	done chan string
}

func (s *sizesSeen) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		s.register(c)
		return next(ctx, c)
	}
}

func (s *sizesSeen) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		s.register(c)
		return next(ctx, c)
	}
}

func (s *sizesSeen) register(c *intercept.Call) {
	proc := c.Procedure
	if !c.Sizes.OnEnd(func(in, out int64) {
		s.mu.Lock()
		s.seen[proc] = [2]int64{in, out}
		s.mu.Unlock()
		s.done <- proc
	}) {
		s.done <- "no sizes: " + proc
	}
}

func (s *sizesSeen) wait(t *testing.T, proc string) [2]int64 {
	t.Helper()
	select {
	case got := <-s.done:
		if got != proc {
			t.Fatalf("sizes of %q, want %q", got, proc)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no sizes for %s", proc)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[proc]
}

// TestSizesHTTP: over HTTP the serving side's interceptors learn the
// bytes of the request body and of the response body, as sent (after
// gzip), once the response is written; and the call log line carries
// them.
func TestSizesHTTP(t *testing.T) {
	seen := &sizesSeen{seen: map[string][2]int64{}, done: make(chan string, 10)}
	logs, logger := logtest.New()
	svc := service.New(service.WithLogger(logger), service.WithInterceptors(seen))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("big", func() string { return strings.Repeat("glyph ", 4000) })
	svc.MustFunc("count", func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}, service.Args("n"))
	srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(logger)))
	t.Cleanup(srv.Close)

	for _, tt := range []struct {
		name, proc, body string
		gzip             bool
	}{
		{"json arguments", "greet", `{"name": "a name of some length"}`, false},
		{"no body", "big", "", false},
		{"gzipped reply", "big", "", true},
		{"list", "count", `{"n": 300}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = http.NoBody
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest("POST", srv.URL+"/"+tt.proc, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			if tt.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			// A transport that leaves the reply as it came, gzipped or not.
			res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			reply, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, reply)
			}
			if gz := res.Header.Get("Content-Encoding") == "gzip"; gz != tt.gzip {
				t.Fatalf("gzipped %v, want %v", gz, tt.gzip)
			}
			got := seen.wait(t, tt.proc)
			if want := [2]int64{int64(len(tt.body)), int64(len(reply))}; got != want {
				t.Errorf("sizes in, out = %v, want %v", got, want)
			}
			// The call log, outermost, registered after this test's
			// interceptor and so logs after it.
			lines := logs.Entries("glyph: call", "method", tt.proc, "bytes_out", strconv.FormatInt(got[1], 10))
			for deadline := time.Now().Add(5 * time.Second); len(lines) == 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
				lines = logs.Entries("glyph: call", "method", tt.proc, "bytes_out", strconv.FormatInt(got[1], 10))
			}
			if len(lines) == 0 {
				t.Fatalf("no call line for %s:\n%s", tt.proc, logs)
			}
			last := lines[len(lines)-1]
			if last["bytes_in"] != float64(got[0]) || last["bytes_out"] != float64(got[1]) {
				t.Errorf("call line has bytes_in %v, bytes_out %v, want %d and %d", last["bytes_in"], last["bytes_out"], got[0], got[1])
			}
		})
	}
}

// countingConn counts the data of the frames its Conn writes and reads
// while counting is on (after the handshake).
type countingConn struct {
	peer.FrameConn
	on            atomic.Bool
	written, read atomic.Int64
}

func (c *countingConn) ReadFrame(ctx context.Context) (peer.Frame, error) {
	f, err := c.FrameConn.ReadFrame(ctx)
	if err == nil && c.on.Load() && len(f.Data) > 0 {
		c.read.Add(int64(len(f.Data)))
	}
	return f, err
}

func (c *countingConn) WriteFrames(ctx context.Context, frames []peer.Frame) error {
	if c.on.Load() {
		for _, f := range frames {
			c.written.Add(int64(len(f.Data)))
		}
	}
	return c.FrameConn.WriteFrames(ctx, frames)
}

// TestSizesPeer: over a peer connection the serving side's interceptors
// learn the bytes of the frames of the call's arguments and of its
// replies, as the caller wrote and read them.
func TestSizesPeer(t *testing.T) {
	seen := &sizesSeen{seen: map[string][2]int64{}, done: make(chan string, 10)}
	logs, logger := logtest.New()
	svc := service.New(service.WithLogger(logger), service.WithInterceptors(seen))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i * 1000) {
					return
				}
			}
		}
	}, service.Args("n"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := peer.Pipe()
	served := make(chan *peer.Conn, 1)
	go func() {
		c, err := peer.Server(ctx, b, peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithLogger(logger))
		if err != nil {
			t.Error(err)
		}
		served <- c
	}()
	cc := &countingConn{FrameConn: a}
	conn, err := peer.Client(ctx, cc, peer.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if s := <-served; s != nil {
		t.Cleanup(func() { s.Close() })
	}
	cc.on.Store(true)

	// A unary call: one frame each way.
	if _, err := conn.Call(ctx, "greet", map[string]any{"name": "a name of some length"}); err != nil {
		t.Fatal(err)
	}
	got := seen.wait(t, "greet")
	if want := [2]int64{cc.written.Load(), cc.read.Load()}; got != want {
		t.Errorf("greet: sizes in, out = %v, want %v as the caller wrote and read them", got, want)
	}
	if got[0] == 0 || got[1] == 0 {
		t.Errorf("greet: sizes %v, want both counted", got)
	}

	// Streamed results: the replies are every frame the caller reads.
	cc.written.Store(0)
	cc.read.Store(0)
	st, err := conn.CallStream(ctx, "count", map[string]any{"n": 50})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := st.Recv(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	got = seen.wait(t, "count")
	if got[1] != cc.read.Load() {
		t.Errorf("count: sizes out %d, want %d as the caller read them", got[1], cc.read.Load())
	}
	if got[0] == 0 || got[0] > cc.written.Load() {
		t.Errorf("count: sizes in %d, want the request's frame, of the %d bytes the caller wrote", got[0], cc.written.Load())
	}
	var lines []logtest.Entry
	for deadline := time.Now().Add(5 * time.Second); len(lines) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		lines = logs.Entries("glyph: call", "method", "count", "bytes_in", strconv.FormatInt(got[0], 10), "bytes_out", strconv.FormatInt(got[1], 10))
	}
	if len(lines) != 1 {
		t.Errorf("no call line for count with bytes_in %d and bytes_out %d:\n%s", got[0], got[1], logs)
	}
}

// TestSizesNATS: over NATS the serving side's interceptors learn the
// bytes of the request's data and of the reply's.
func TestSizesNATS(t *testing.T) {
	seen := &sizesSeen{seen: map[string][2]int64{}, done: make(chan string, 10)}
	svc := service.New(service.WithInterceptors(seen))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	nc, err := nats.Connect(runNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := hypernats.NewServer(ctx, nc, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(context.Background()) })
	data := []byte(`{"name": "a name of some length"}`)
	reply, err := nc.RequestWithContext(ctx, hypernats.DefaultPrefix+".greet", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reply.Data), "hello a name") {
		t.Fatalf("reply %q", reply.Data)
	}
	if got, want := seen.wait(t, "greet"), [2]int64{int64(len(data)), int64(len(reply.Data))}; got != want {
		t.Errorf("sizes in, out = %v, want %v", got, want)
	}
}

// TestSizesRPC: over JSON-RPC and XML-RPC the serving side's
// interceptors learn the bytes of the request body and of the answer,
// for a body of one call; the calls of a JSON-RPC batch, which share a
// body, have no Sizes.
func TestSizesRPC(t *testing.T) {
	seen := &sizesSeen{seen: map[string][2]int64{}, done: make(chan string, 10)}
	svc := service.New(service.WithInterceptors(seen))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	jsonSrv := httptest.NewServer(jsonrpc.NewHandler(svc))
	t.Cleanup(jsonSrv.Close)
	xmlSrv := httptest.NewServer(xmlrpc.NewHandler(svc))
	t.Cleanup(xmlSrv.Close)
	post := func(url, body string) int64 {
		t.Helper()
		res, err := http.Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		reply, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 || !strings.Contains(string(reply), "hello ann") {
			t.Fatalf("status %d, %v: %s", res.StatusCode, err, reply)
		}
		return int64(len(reply))
	}

	body := `{"jsonrpc": "2.0", "id": 1, "method": "greet", "params": {"name": "ann"}}`
	out := post(jsonSrv.URL, body)
	if got, want := seen.wait(t, "greet"), [2]int64{int64(len(body)), out}; got != want {
		t.Errorf("JSON-RPC: sizes in, out = %v, want %v", got, want)
	}

	body = `<?xml version="1.0"?><methodCall><methodName>greet</methodName><params><param><value><string>ann</string></value></param></params></methodCall>`
	out = post(xmlSrv.URL, body)
	if got, want := seen.wait(t, "greet"), [2]int64{int64(len(body)), out}; got != want {
		t.Errorf("XML-RPC: sizes in, out = %v, want %v", got, want)
	}

	post(jsonSrv.URL, `[{"jsonrpc": "2.0", "id": 1, "method": "greet", "params": ["ann"]}]`)
	select {
	case got := <-seen.done:
		if got != "no sizes: greet" {
			t.Errorf("a call of a batch: %q, want no sizes", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the batch's call was not seen")
	}
}
