package duplexjs_test

// These tests run the public duplex JavaScript peer (npm duplex.js 0.1.0,
// from github.com/progrium/duplex) against glyph: peer.js drives duplex.js
// over WebSocket and prints what it got, one JSON line each, and the tests
// compare that with what it should be, and with what the glyph side saw.
// The glyph side serves raw peer handlers and a service through
// hyperpeer.NewHandler, and records the frames it reads and writes.
//
// Setup: Node.js on PATH and `cd interop/duplexjs && npm ci`. Without them
// they skip, and go test -v says so in one line, unless GLYPH_INTEROP=1
// (as in .ci/run): then they fail.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// enable is how to get what the tests need.
const enable = "install Node.js 18 or later with npm, then: cd interop/duplexjs && npm ci"

// missingSetup says what the tests need and this machine lacks: node, or
// the npm packages; "" when nothing is missing.
func missingSetup() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not on PATH"
	}
	for _, pkg := range []string{"duplex.js", "ws"} {
		if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
			return fmt.Sprintf("the npm package %s is not installed in interop/duplexjs/node_modules", pkg)
		}
	}
	return ""
}

// TestMain runs only TestInteropSetup when the setup is missing (unless
// GLYPH_INTEROP=1, as in .ci/run: then every test runs and fails), so that
// go test -v says once what was skipped and how to enable it.
func TestMain(m *testing.M) {
	flag.Parse()
	if missingSetup() != "" && os.Getenv("GLYPH_INTEROP") != "1" {
		flag.Set("test.run", "^TestInteropSetup$")
	}
	os.Exit(m.Run())
}

// TestInteropSetup skips with the one line that says what is missing. It
// checks again, rather than trusting TestMain, because go test caches a
// result by what the tests read, and TestMain's reads do not count: so a
// cached skip ends when node or the packages appear.
func TestInteropSetup(t *testing.T) {
	required := os.Getenv("GLYPH_INTEROP") == "1" // read first, so that it counts for the cache
	why := missingSetup()
	switch {
	case why != "" && required:
		t.Fatalf("%s; to run the duplex.js interop tests, %s (GLYPH_INTEROP=1, so this is not skipped)", why, enable)
	case why != "":
		t.Skipf("duplex.js interop tests skipped: %s; to run them, %s (.ci/run does)", why, enable)
	}
}

// nodeSetup returns the node binary, or fails the test when node or the
// npm packages are missing (TestMain runs no test then, unless
// GLYPH_INTEROP=1).
func nodeSetup(t *testing.T) string {
	t.Helper()
	if why := missingSetup(); why != "" {
		t.Fatalf("%s; to run the duplex.js interop tests, %s", why, enable)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// wireFrame is one frame the glyph side read or wrote.
type wireFrame struct {
	conn      int
	fromGlyph bool
	text      bool
	data      string
}

func (f wireFrame) String() string {
	dir := "duplex.js → glyph"
	if f.fromGlyph {
		dir = "glyph → duplex.js"
	}
	if !f.text {
		dir += " (binary)"
	}
	return fmt.Sprintf("conn %d %s: %s", f.conn, dir, f.data)
}

// wireLog keeps the frames of the glyph side's connections.
type wireLog struct {
	mu     sync.Mutex
	frames []wireFrame
	nconn  int
	pings  atomic.Int64 // WebSocket pings answered
}

func (l *wireLog) add(f wireFrame) {
	l.mu.Lock()
	l.frames = append(l.frames, f)
	l.mu.Unlock()
}

func (l *wireLog) all() []wireFrame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.frames)
}

// wrap returns fc recording its frames as those of the next connection.
// The recorder passes on the close reasons and the WebSocket pings of a
// baseline connection's keepalive, as a wrapper has to (peer.ReasonCloser,
// peer.Pinger), and counts the pings.
func (l *wireLog) wrap(fc peer.FrameConn) peer.FrameConn {
	l.mu.Lock()
	l.nconn++
	n := l.nconn
	l.mu.Unlock()
	return &recorder{fc, n, l}
}

func (l *wireLog) String() string {
	var b strings.Builder
	for _, f := range l.all() {
		fmt.Fprintln(&b, f)
	}
	return b.String()
}

// recorder is a FrameConn that records the frames through it.
type recorder struct {
	peer.FrameConn
	conn int
	log  *wireLog
}

func (r *recorder) ReadFrame(ctx context.Context) (peer.Frame, error) {
	f, err := r.FrameConn.ReadFrame(ctx)
	if err == nil {
		r.log.add(wireFrame{r.conn, false, f.Text, string(f.Data)})
	}
	return f, err
}

func (r *recorder) Ping(ctx context.Context) error {
	err := r.FrameConn.(peer.Pinger).Ping(ctx)
	if err == nil {
		r.log.pings.Add(1)
	}
	return err
}

func (r *recorder) CloseWithReason(reason error) error {
	return r.FrameConn.(peer.ReasonCloser).CloseWithReason(reason)
}

func (r *recorder) WriteFrames(ctx context.Context, frames []peer.Frame) error {
	for _, f := range frames {
		r.log.add(wireFrame{r.conn, true, f.Text, string(f.Data)})
	}
	return r.FrameConn.WriteFrames(ctx, frames)
}

// router serves some methods with raw peer handlers, the others with a
// fallback (the service).
type router struct {
	raw      map[string]peer.HandlerFunc
	fallback peer.Handler
}

func (r router) ServePeer(ctx context.Context, s *peer.ServerStream) (any, error) {
	if h, ok := r.raw[s.Method()]; ok {
		return h(ctx, s)
	}
	if r.fallback == nil {
		return nil, service.Errorf(service.KindNotFound, "method not found: %s", s.Method())
	}
	return r.fallback.ServePeer(ctx, s)
}

// server is the glyph side of the tests where duplex.js connects: what it
// serves and what it saw.
type server struct {
	url   string
	wire  wireLog
	conns chan *peer.Conn
	fails chan error // handshakes that failed

	logged      chan string         // what "log" was notified of
	atOnce      chan map[string]any // how the call made on accepting the first connection ended
	callmeGot   chan map[string]any // what "callme" got from the JS methods
	throwResult chan error          // how glyph's call of the throwing JS handler ended
	notifyGot   chan map[string]any // how notifyme's call after its notification ended
}

func startServer(t *testing.T, record bool) *server {
	s := &server{
		conns:       make(chan *peer.Conn, 8),
		fails:       make(chan error, 8),
		logged:      make(chan string, 1),
		atOnce:      make(chan map[string]any, 1),
		callmeGot:   make(chan map[string]any, 1),
		throwResult: make(chan error, 1),
		notifyGot:   make(chan map[string]any, 1),
	}
	h := router{raw: s.rawHandlers(), fallback: hyperpeer.NewHandler(s.newService())}
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		if record {
			fc = s.wire.wrap(fc)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := peer.Server(ctx, fc, peer.WithHandler(h))
		if err != nil {
			s.fails <- err
			return
		}
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			// The acceptor may call the connector as soon as it answered.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				v, err := c.Call(ctx, "echo", "at once")
				s.atOnce <- map[string]any{"result": v, "err": errorMap(err)}
			}()
		}
		s.conns <- c
		<-c.Done()
	}))
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	return s
}

// newService is what duplex.js calls through hyperpeer.NewHandler.
func (s *server) newService() *service.Service {
	svc := service.New(service.WithName("interop"))
	svc.MustFunc("hello", func(name string) string { return "Hello " + name },
		service.Args("name"), service.Default("name", "World"))
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("trace", func(ctx context.Context) string { return peer.Header(ctx)["trace"] })
	svc.MustFunc("count", func(n int) iter.Seq[map[string]int] {
		return func(yield func(map[string]int) bool) {
			for i := 1; i <= n; i++ {
				if !yield(map[string]int{"num": i}) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		total := 0
		for x := range xs {
			total += x
		}
		return total
	}, service.Args("xs"))
	svc.MustFunc("conflict", func() error { return service.Errorf(service.KindConflict, "asked to") })
	svc.MustFunc("failmid", func() iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			if yield(1, nil) && yield(2, nil) {
				yield(0, service.Errorf(service.KindInvalid, "broke after 2"))
			}
		}
	})
	svc.MustFunc("shout", func(s string, cb func(string) (string, error)) (string, error) {
		r, err := cb(strings.ToUpper(s))
		return "callback said: " + r, err
	}, service.Args("s", "cb"))
	svc.MustFunc("log", func(msg string) { s.logged <- msg }, service.Args("msg"))
	svc.MustFunc("logged", func(ctx context.Context) (string, error) {
		select {
		case msg := <-s.logged:
			s.logged <- msg // for the test to see too
			return msg, nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(5 * time.Second):
			return "", service.Errorf(service.KindDeadlineExceeded, "no notification came")
		}
	})
	return svc
}

// echo returns its payload as it came.
func echo(ctx context.Context, ss *peer.ServerStream) (any, error) { return ss.Recv() }

// upper answers each streamed string in capitals as it comes.
func upper(ctx context.Context, ss *peer.ServerStream) (any, error) {
	for {
		v, err := ss.Recv()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		str, _ := v.(string)
		if err := ss.Send(strings.ToUpper(str)); err != nil {
			return nil, err
		}
	}
}

// rawHandlers are the methods served by plain peer handlers.
func (s *server) rawHandlers() map[string]peer.HandlerFunc {
	return map[string]peer.HandlerFunc{
		"echo":  echo,
		"upper": upper,
		// fail replies the baseline's error example, code 1000 and data.
		"fail": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			return nil, &service.Error{Kind: service.KindOther, Message: "Test message",
				Err: &peer.RemoteError{Code: 1000, Data: map[string]any{"why": "asked to"}}}
		},
		// callback calls the method named by its first argument with its
		// second, on the caller's connection (duplex-wire.md, 3.5).
		"callback": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			v, err := ss.Recv()
			if err != nil {
				return nil, err
			}
			args, _ := v.([]any)
			if len(args) != 2 {
				return nil, service.Errorf(service.KindInvalid, "want [name, argument], got %v", v)
			}
			name, _ := args[0].(string)
			return ss.Conn().Call(ctx, name, args[1])
		},
		"callme":    s.callme,
		"callthrow": s.callthrow,
		"throwresult": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			select {
			case err := <-s.throwResult:
				s.throwResult <- err
				return errorMap(err), nil
			case <-time.After(5 * time.Second):
				return nil, service.Errorf(service.KindDeadlineExceeded, "callthrow did not end")
			}
		},
		"notifyme": s.notifyme,
	}
}

// errorMap describes an error of a call glyph made, as the tests check it.
func errorMap(err error) map[string]any {
	if err == nil {
		return nil
	}
	m := map[string]any{"kind": service.KindOf(err).String(), "error": err.Error()}
	var re *peer.RemoteError
	if errors.As(err, &re) {
		m["code"], m["data"] = int64(re.Code), re.Data
	}
	return m
}

// streamCall makes a streamed call: args one by one, then the results.
func streamCall(ctx context.Context, c peer.Caller, method string, args ...any) ([]any, error) {
	st, err := c.NewStream(ctx, method)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, a := range args {
		if err := st.Send(a); err != nil {
			return nil, err
		}
	}
	if err := st.CloseSend(); err != nil {
		return nil, err
	}
	var items []any
	for {
		v, err := st.Recv()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, v)
	}
}

// callJS calls duplex.js's methods (newRPC in peer.js) on c, and returns
// what it got: results, or {"err": errorMap}.
func callJS(ctx context.Context, c peer.Caller) map[string]any {
	got := map[string]any{}
	one := func(name string, v any, err error) {
		if err != nil {
			got[name] = map[string]any{"err": errorMap(err)}
		} else {
			got[name] = v
		}
	}
	v, err := c.Call(ctx, "echo", map[string]any{"from": "glyph", "list": []any{int64(1), 2.5, "x", true, nil}})
	one("echo", v, err)
	v, err = c.Call(ctx, "whoami", nil)
	one("whoami", v, err)
	v, err = c.Call(ctx, "void", nil)
	one("void", v, err)
	items, err := streamCall(ctx, c, "count", int64(3))
	one("count", items, err)
	items, err = streamCall(ctx, c, "adder", int64(1), int64(2), int64(3), int64(4))
	one("adder", items, err)
	items, err = streamCall(ctx, c, "upper", "a", "b", "c")
	one("upper", items, err)
	v, err = c.Call(ctx, "error", nil)
	one("error", v, err)
	return got
}

// wantFromJS is what callJS gets.
func wantFromJS(trace string) map[string]any {
	whoami := map[string]any{"ext": nil}
	if trace != "" {
		whoami["ext"] = map[string]any{"trace": trace}
	}
	return map[string]any{
		"echo":   map[string]any{"from": "glyph", "list": []any{int64(1), 2.5, "x", true, nil}},
		"whoami": whoami,
		"void":   nil,
		"count":  []any{map[string]any{"num": int64(1)}, map[string]any{"num": int64(2)}, map[string]any{"num": int64(3)}},
		"adder":  []any{int64(10)},
		"upper":  []any{"A", "B", "C"},
		"error": map[string]any{"err": map[string]any{"kind": "other", "error": "error: Test message",
			"code": int64(1000), "data": map[string]any{"why": "asked to"}}},
	}
}

// callme notifies the caller's "note", then calls its methods, on the
// connection the call came on with the call's context (so its ext travels
// on as headers), and returns what it got; the test gets it too.
func (s *server) callme(ctx context.Context, ss *peer.ServerStream) (any, error) {
	if err := ss.Conn().Notify(ctx, "note", "from glyph"); err != nil {
		return nil, err
	}
	got := callJS(ctx, ss.Conn())
	s.callmeGot <- got
	return got, nil
}

// callthrow (a notification) calls the JS handler that throws, with a
// deadline, since no reply will come.
func (s *server) callthrow(ctx context.Context, ss *peer.ServerStream) (any, error) {
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err := ss.Conn().Call(cctx, "throws", "please")
	s.throwResult <- err
	return nil, nil
}

// notifyme notifies the caller's "echo" with the call's payload, then
// calls it.
func (s *server) notifyme(ctx context.Context, ss *peer.ServerStream) (any, error) {
	v, err := ss.Recv()
	if err != nil {
		return nil, err
	}
	c := ss.Conn()
	if err := c.Notify(ctx, "echo", v); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	got, err := c.Call(cctx, "echo", "after the notification")
	s.notifyGot <- errorMap(err)
	return got, err
}

// jsProc is a running peer.js.
type jsProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan struct{}
	stderr strings.Builder

	mu    sync.Mutex
	lines []string
	added chan struct{} // closed and replaced when a line is added

	waitOnce sync.Once
	out      *jsOutput
}

// startPeerJS starts node peer.js args; it is killed after 20 s.
func startPeerJS(t *testing.T, node string, args ...string) *jsProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	cmd := exec.CommandContext(ctx, node, append([]string{"peer.js"}, args...)...)
	cmd.Env = append(os.Environ(), "DUPLEXJS_TIMEOUT_MS=15000")
	cmd.WaitDelay = 2 * time.Second
	p := &jsProc{t: t, cmd: cmd, cancel: cancel, done: make(chan struct{}), added: make(chan struct{})}
	cmd.Stderr = &p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start peer.js: %v", err)
	}
	t.Cleanup(func() { p.wait() })
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.added)
			p.added = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	return p
}

// waitLine waits up to 10 s for a line whose JSON object has the key with
// a value (any value when value is nil), and returns that object.
func (p *jsProc) waitLine(key string, value any) map[string]any {
	p.t.Helper()
	timeout := time.After(10 * time.Second)
	for seen := 0; ; {
		p.mu.Lock()
		lines, added := p.lines[seen:], p.added
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m[key] != nil && (value == nil || reflect.DeepEqual(m[key], value)) {
				return m
			}
		}
		select {
		case <-added:
		case <-p.done:
			p.t.Fatalf("peer.js ended without printing %s %v", key, value)
		case <-timeout:
			p.t.Fatalf("peer.js printed no %s %v within 10s", key, value)
		}
	}
}

// jsOutput is what peer.js printed: its steps by name, the calls of its
// methods as its handlers got them, and every line.
type jsOutput struct {
	steps   map[string]map[string]any
	handled []any
	lines   []string
	err     error
}

// wait waits for peer.js to end and returns what it printed.
func (p *jsProc) wait() *jsOutput {
	p.waitOnce.Do(func() { p.out = p.collect() })
	return p.out
}

func (p *jsProc) collect() *jsOutput {
	<-p.done
	err := p.cmd.Wait()
	p.cancel()
	if p.stderr.Len() > 0 {
		p.t.Logf("peer.js stderr:\n%s", p.stderr.String())
	}
	out := &jsOutput{steps: map[string]map[string]any{}, err: err}
	p.mu.Lock()
	out.lines = slices.Clone(p.lines)
	p.mu.Unlock()
	for _, line := range out.lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			p.t.Errorf("peer.js printed a line that is not JSON: %q", line)
			continue
		}
		switch {
		case m["step"] != nil:
			out.steps[m["step"].(string)] = m
			delete(m, "step")
		case m["handled"] != nil:
			out.handled = append(out.handled, m)
		}
	}
	return out
}

func (o *jsOutput) String() string { return strings.Join(o.lines, "\n") }

// js parses a JSON literal, to compare with what peer.js printed.
func js(t *testing.T, lit string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(lit), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", lit, err)
	}
	return v
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkSteps compares the steps peer.js reported with want (step name,
// then its fields as JSON), and reports steps that want does not name. A
// logref (16 hex digits, random) is "L" in want.
func checkSteps(t *testing.T, out *jsOutput, want [][2]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, w := range want {
		seen[w[0]] = true
		got, ok := out.steps[w[0]]
		if !ok {
			t.Errorf("step %s: peer.js did not report it", w[0])
			continue
		}
		if wantV := js(t, w[1]); !reflect.DeepEqual(maskLogrefs(got), wantV) {
			t.Errorf("step %s:\n got %s\nwant %s", w[0], compact(got), compact(wantV))
		}
	}
	for name, got := range out.steps {
		if !seen[name] {
			t.Errorf("unexpected step %s: %s", name, compact(got))
		}
	}
}

// maskLogrefs returns v, a decoded JSON value, with the value of every
// "logref" that is 16 hex digits replaced by "L".
func maskLogrefs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if s, ok := e.(string); ok && k == "logref" && logrefPattern.MatchString(s) {
				e = "L"
			}
			out[k] = maskLogrefs(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskLogrefs(e)
		}
		return out
	}
	return v
}

var logrefPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// checkBaselineFrames checks that glyph wrote the baseline and nothing
// else: text frames only, first the handshake line (+OK for an acceptor,
// the greeting for a connector), then req and rep envelopes with the
// baseline's fields only.
func checkBaselineFrames(t *testing.T, frames []wireFrame, conns int, handshake string) {
	t.Helper()
	baseline := map[string]bool{"type": true, "method": true, "id": true, "payload": true, "more": true, "ext": true, "error": true}
	first := map[int]bool{}
	for _, f := range frames {
		if !f.fromGlyph {
			continue
		}
		if !f.text {
			t.Errorf("glyph wrote a binary frame to a json peer: %v", f)
			continue
		}
		if !first[f.conn] {
			first[f.conn] = true
			if f.data != handshake {
				t.Errorf("conn %d: glyph's handshake line %q, want %q", f.conn, f.data, handshake)
			}
			continue
		}
		var env map[string]any
		if err := json.Unmarshal([]byte(f.data), &env); err != nil {
			t.Errorf("glyph wrote a frame that is not JSON: %v", f)
			continue
		}
		if env["type"] != "req" && env["type"] != "rep" {
			t.Errorf("glyph wrote an extension envelope to a baseline peer: %v", f)
		}
		for k := range env {
			if !baseline[k] {
				t.Errorf("glyph wrote the field %q to a baseline peer: %v", k, f)
			}
		}
	}
	if len(first) != conns {
		t.Errorf("glyph wrote on %d connections, want %d", len(first), conns)
	}
}

// TestDuplexJSCallsGlyph: duplex.js connects to a glyph server and calls
// it, glyph calls it back, over every interaction of duplex-wire.md
// section 3 that duplex.js has (not msgpack: duplex.js has only JSON).
func TestDuplexJSCallsGlyph(t *testing.T) {
	node := nodeSetup(t)
	s := startServer(t, true)
	out := startPeerJS(t, node, s.url).wait()
	defer func() {
		if t.Failed() {
			t.Logf("frames on the glyph side:\n%s", &s.wire)
			t.Logf("peer.js printed:\n%s", out)
		}
	}()
	if out.err != nil {
		t.Errorf("peer.js: %v", out.err)
	}

	// Every step of peer.js, and exactly what duplex.js got: items are the
	// results in order, error the error reply that ended them.
	checkSteps(t, out, [][2]string{
		{"handshake", `{"sent":"SIMPLEX/1.0;json","got":"+OK"}`},

		// 1. Calls, with every shape of arguments: a raw echo, the service.
		{"echo-list", `{"id":1,"items":[[1,"two",{"three":3},null,true,2.5]]}`},
		{"echo-map", `{"id":2,"items":[{"foo":"bar","n":-7,"nested":{"list":[]}}]}`},
		{"echo-value", `{"id":3,"items":["héllo ✓ 😀 <&>"]}`},
		{"echo-null", `{"id":4,"items":[null]}`},
		{"echo-undefined", `{"id":5,"items":[null]}`},
		{"hello-list", `{"id":6,"items":["Hello Ann"]}`},
		{"hello-map", `{"id":7,"items":["Hello Bob"]}`},
		{"hello-value", `{"id":8,"items":["Hello Eve"]}`},
		{"hello-null", `{"id":9,"items":["Hello World"]}`},
		{"add-list", `{"id":10,"items":[5]}`},
		{"add-map", `{"id":11,"items":[15]}`},

		// 6. Metadata: the reply carries the request's ext; the service
		// sees its strings as headers.
		{"ext-echo", `{"id":12,"items":[{"x":1}],"replyExt":[{"trace":"abc123","n":1}]}`},
		{"ext-header", `{"id":13,"items":["js-trace-7"]}`},
		{"peer-ext", `{"id":14,"items":["peer-wide"],"replyExt":[{"trace":"peer-wide"}]}`},

		// 2. Streamed results, in order, one callback each. A stream of
		// one item looks unary to a baseline peer; one of none is one
		// empty list.
		{"count", `{"id":15,"items":[{"num":1},{"num":2},{"num":3},{"num":4}]}`},
		{"count-one", `{"id":16,"items":[{"num":1}]}`},
		{"count-none", `{"id":17,"items":[[]]}`},
		// 3. Streamed arguments, and both ways at once.
		{"sum-stream", `{"id":18,"items":[10]}`},
		{"sum-one", `{"id":19,"items":[42]}`},
		{"upper-stream", `{"id":20,"items":["A","B","C"]}`},

		// 4. Errors: the baseline's example as it is, service errors with
		// their code, op and logref (also after two items, and for bad
		// arguments), and the "not found" the baseline lacked, also for a
		// streamed call (whose later arguments are dropped).
		{"fail", `{"id":21,"items":[],"error":{"code":1000,"message":"Test message","data":{"why":"asked to"}}}`},
		{"conflict", `{"id":22,"items":[],"error":{"code":9,"message":"asked to","data":{"op":"conflict","logref":"L"}}}`},
		{"failmid", `{"id":23,"items":[1,2],"error":{"code":3,"message":"broke after 2","data":{"op":"failmid","logref":"L"}}}`},
		{"bad-args", `{"id":24,"items":[],"error":{"code":3,"message":"argument \"a\": expected integer, got unicode","data":{"op":"add","logref":"L"}}}`},
		{"nosuch", `{"id":25,"items":[],"error":{"code":5,"message":"no function or class \"nosuch\"","data":{"logref":"L"}}}`},
		{"nosuch-stream", `{"id":26,"items":[],"error":{"code":5,"message":"no function or class \"nosuch.stream\"","data":{"logref":"L"}},"after":["after"],"reps":1}`},

		// A call answered after its first argument stays answered: the
		// later arguments are dropped, not taken for a new call.
		{"early-reply", `{"id":28,"items":["a"],"after":["after"],"reps":1}`},

		// 7. A notification: the service got it.
		{"notify", `{"id":30,"items":["hello from duplex.js"]}`},

		// 5. Callbacks: glyph calls duplex.js's "_callback.<uuid>" on the
		// same connection, and the result flows back.
		{"callback", `{"id":31,"items":["HELLO"],"callbackGot":["hello"],"named":true}`},
		{"callback-service", `{"id":32,"items":["callback said: HI, said duplex.js"],"callbackGot":["HI"]}`},

		// 80 calls at once, each answered right.
		{"concurrent", `{"calls":80,"wrong":0}`},

		// glyph calls duplex.js's methods while handling callme.
		{"callme", `{"id":113,"note":"from glyph","items":[{
			"echo":{"from":"glyph","list":[1,2.5,"x",true,null]},
			"whoami":{"ext":{"trace":"callme-1"}},
			"void":null,
			"count":[{"num":1},{"num":2},{"num":3}],
			"adder":[10],
			"upper":["A","B","C"],
			"error":{"err":{"kind":"other","error":"error: Test message","code":1000,"data":{"why":"asked to"}}}}]}`},
		// duplex.API: a call queued before it connected.
		{"api-queued", `{"err":null,"items":["queued before connect"]}`},
		// A handler that throws: no reply ever; glyph's call ends at its
		// deadline (seen from a third connection).
		{"throws", `{"uncaught":"thrown by the duplex.js handler"}`},
		{"second-conn", `{"id":1,"items":[{"kind":"deadline_exceeded","error":"throws: deadline_exceeded"}],"echo":["second"]}`},
		{"done", `{"failed":false}`},
	})

	// What the glyph side saw.
	var conns []*peer.Conn
	for len(conns) < 3 {
		select {
		case c := <-s.conns:
			conns = append(conns, c)
		case err := <-s.fails:
			t.Fatalf("a handshake failed: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d connections, want 3 (the script's, duplex.API's, the second)", len(conns))
		}
	}
	for i, c := range conns {
		// A baseline peer: the json codec of its greeting, no extension.
		if c.Codec() != "json" || len(c.Extensions()) != 0 {
			t.Errorf("conn %d: codec %s, extensions %v; want json and none", i+1, c.Codec(), c.Extensions())
		}
	}
	if got := <-s.atOnce; !reflect.DeepEqual(got, map[string]any{"result": "at once", "err": map[string]any(nil)}) {
		t.Errorf("the call made on accepting: %v", got)
	}
	select {
	case msg := <-s.logged:
		if msg != "hello from duplex.js" {
			t.Errorf("notification: log got %q", msg)
		}
	default:
		t.Error("notification: log was never called")
	}
	select {
	case got := <-s.callmeGot:
		if want := wantFromJS("callme-1"); !reflect.DeepEqual(got, want) {
			t.Errorf("callme: glyph got\n%#v\nwant\n%#v", got, want)
		}
	default:
		t.Error("callme never ran")
	}
	select {
	case err := <-s.throwResult:
		if service.KindOf(err) != service.KindDeadlineExceeded {
			t.Errorf("the call of the throwing handler ended with %v, want deadline exceeded", err)
		}
	default:
		t.Error("callthrow never ran")
	}

	// glyph's calls as duplex.js's handlers got them: arguments in order,
	// more on all but the last, the ext of the call being handled passed
	// on. Callback calls are not listed (ids 2 and 3).
	trace := `"ext":{"trace":"callme-1"}`
	if got, want := any(out.handled), js(t, `[
		{"handled":"echo","id":1,"payload":"at once"},
		{"handled":"note","id":null,"payload":"from glyph",`+trace+`},
		{"handled":"echo","id":4,"payload":{"from":"glyph","list":[1,2.5,"x",true,null]},`+trace+`},
		{"handled":"whoami","id":5,"payload":null,`+trace+`},
		{"handled":"void","id":6,"payload":null,`+trace+`},
		{"handled":"count","id":7,"payload":3,`+trace+`},
		{"handled":"adder","id":8,"payload":1,"more":true,`+trace+`},
		{"handled":"adder","id":8,"payload":2,"more":true,`+trace+`},
		{"handled":"adder","id":8,"payload":3,"more":true,`+trace+`},
		{"handled":"adder","id":8,"payload":4,`+trace+`},
		{"handled":"upper","id":9,"payload":"a","more":true,`+trace+`},
		{"handled":"upper","id":9,"payload":"b","more":true,`+trace+`},
		{"handled":"upper","id":9,"payload":"c",`+trace+`},
		{"handled":"error","id":10,"payload":null,`+trace+`},
		{"handled":"throws","id":11,"payload":"please"}]`); !reflect.DeepEqual(got, want) {
		t.Errorf("duplex.js's handlers got\n%s\nwant\n%s", compact(got), compact(want))
	}

	checkBaselineFrames(t, s.wire.all(), 3, "+OK")
}

// TestGlyphConnectsToDuplexJS: glyph connects to duplex.js, which accepts
// (RPC.accept) and calls glyph at once; glyph calls it.
func TestGlyphConnectsToDuplexJS(t *testing.T) {
	node := nodeSetup(t)
	p := startPeerJS(t, node, "--serve")
	url, _ := p.waitLine("listening", nil)["listening"].(string)

	var wire wireLog
	noted := make(chan string, 1)
	relayHeader := make(chan map[string]string, 1)
	h := router{raw: map[string]peer.HandlerFunc{
		"gecho": echo,
		"gcount": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			v, _ := ss.Recv()
			n, _ := v.(int64)
			for i := int64(1); i <= n; i++ {
				if err := ss.Send(i); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		"gnote": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			v, _ := ss.Recv()
			s, _ := v.(string)
			noted <- s
			return nil, nil
		},
		"gnoted": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			select {
			case s := <-noted:
				noted <- s
				return s, nil
			case <-time.After(5 * time.Second):
				return nil, service.Errorf(service.KindDeadlineExceeded, "no notification came")
			}
		},
		"gupper": func(ctx context.Context, ss *peer.ServerStream) (any, error) {
			relayHeader <- ss.Header()
			v, _ := ss.Recv()
			s, _ := v.(string)
			return strings.ToUpper(s), nil
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	fc, err := peer.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// Pinged after 20 ms of silence: duplex.js has no ping envelope, so
	// glyph sends WebSocket pings, which ws answers.
	c, err := peer.Client(ctx, wire.wrap(fc), peer.WithHandler(h), peer.WithKeepAlive(20*time.Millisecond, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func() {
		if t.Failed() {
			t.Logf("frames on the glyph side:\n%s", &wire)
		}
	}()
	// duplex.js answers +OK whatever the greeting says: glyph talks
	// baseline with the json codec its greeting names first.
	if c.Codec() != "json" || len(c.Extensions()) != 0 {
		t.Errorf("codec %s, extensions %v; want json and none", c.Codec(), c.Extensions())
	}

	if got, want := callJS(ctx, c), wantFromJS(""); !reflect.DeepEqual(got, want) {
		t.Errorf("glyph got\n%#v\nwant\n%#v", got, want)
	}
	// Idle: the connection stays up on WebSocket pings alone.
	time.Sleep(300 * time.Millisecond)
	if c.Err() != nil || wire.pings.Load() < 3 {
		t.Errorf("after idling: %d pings answered, connection error %v", wire.pings.Load(), c.Err())
	}
	// duplex.js calls glyph back while handling glyph's call, with its ext.
	v, err := c.Call(peer.WithHeader(ctx, map[string]string{"trace": "relay-1"}), "relay", "abc")
	if err != nil || v != "relayed ABC" {
		t.Errorf("relay: %v, %v", v, err)
	}
	if h := <-relayHeader; !reflect.DeepEqual(h, map[string]string{"trace": "relay-1"}) {
		t.Errorf("relay: gupper got the headers %v", h)
	}
	if err := c.Notify(ctx, "note", "from the connector"); err != nil {
		t.Fatal(err)
	}
	p.waitLine("handled", "note")
	p.waitLine("step", "acceptor-notify")
	c.Close()
	out := p.wait()
	if t.Failed() {
		t.Logf("peer.js printed:\n%s", out)
	}
	if out.err != nil {
		t.Errorf("peer.js: %v", out.err)
	}

	checkSteps(t, out, [][2]string{
		// The acceptor calls the connector right after its answer.
		{"acceptor-calls", `{"id":1,"items":[{"early":true}]}`},
		{"acceptor-stream", `{"id":2,"items":[1,2,3]}`},
		{"acceptor-notify", `{"id":3,"items":["from the acceptor"]}`},
		{"closed", `{"closed":{"code":1000,"reason":""},"answer":"+OK",
			"greeting":"SIMPLEX/1.0;json;glyph-codecs=glyph,msgpack,json;glyph-ext=cancel,deadline,end,goaway,ping,safe,window;glyph-stream-window=262144;glyph-conn-window=16777216;glyph-streams=256"}`},
		{"done", `{"failed":false}`},
	})
	relay := `{"handled":"relay","id":8,"payload":"abc","ext":{"trace":"relay-1"}}`
	if got, want := any(out.handled), js(t, `[
		{"handled":"echo","id":1,"payload":{"from":"glyph","list":[1,2.5,"x",true,null]}},
		{"handled":"whoami","id":2,"payload":null},
		{"handled":"void","id":3,"payload":null},
		{"handled":"count","id":4,"payload":3},
		{"handled":"adder","id":5,"payload":1,"more":true},
		{"handled":"adder","id":5,"payload":2,"more":true},
		{"handled":"adder","id":5,"payload":3,"more":true},
		{"handled":"adder","id":5,"payload":4},
		{"handled":"upper","id":6,"payload":"a","more":true},
		{"handled":"upper","id":6,"payload":"b","more":true},
		{"handled":"upper","id":6,"payload":"c"},
		{"handled":"error","id":7,"payload":null},
		`+relay+`,
		{"handled":"note","id":null,"payload":"from the connector"}]`); !reflect.DeepEqual(got, want) {
		t.Errorf("duplex.js's handlers got\n%s\nwant\n%s", compact(got), compact(want))
	}
	// The greeting is the one line that is not the baseline's own; it
	// names json first, so duplex.js reads it as SIMPLEX/1.0;json.
	checkBaselineFrames(t, wire.all(), 1,
		"SIMPLEX/1.0;json;glyph-codecs=glyph,msgpack,json;glyph-ext=cancel,deadline,end,goaway,ping,safe,window;glyph-stream-window=262144;glyph-conn-window=16777216;glyph-streams=256")
}

// TestDuplexJSOtherCodec: duplex.js with a codec of its own (b64json, as
// in its tests) greets with that codec's name; glyph refuses with -ERR and
// closes, and duplex.js fails its handshake (an assertion it throws).
func TestDuplexJSOtherCodec(t *testing.T) {
	node := nodeSetup(t)
	s := startServer(t, false)
	out := startPeerJS(t, node, s.url, "codec").wait()
	if out.err != nil {
		t.Errorf("peer.js: %v", out.err)
	}
	refusal := `-ERR unsupported codec \"b64json\" (supported: glyph,msgpack,json)`
	checkSteps(t, out, [][2]string{
		{"codec", `{"frames":["> SIMPLEX/1.0;b64json","< ` + refusal + `"],
			"uncaught":"Assertion: Bad handshake: ` + refusal + `"}`},
		{"done", `{"failed":false}`},
	})
	select {
	case err := <-s.fails:
		if service.KindOf(err) != service.KindUnsupported {
			t.Errorf("glyph's handshake failed with %v, want unsupported", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("glyph's handshake did not fail")
	}
	if t.Failed() {
		t.Logf("peer.js printed:\n%s", out)
	}
}

// TestDuplexJSRepliesToNotification: duplex.js's handlers reply to
// whatever they get, notifications included: its Channel has id null for
// a notification, so the reply is {"type":"rep","id":null,...}. The
// handlers of duplex.js's own tests and demo (echo) do this. A reply that
// belongs to no call should be ignored, like replies to ids not in use,
// and the connection should carry on.
func TestDuplexJSRepliesToNotification(t *testing.T) {
	node := nodeSetup(t)
	s := startServer(t, false) // unrecorded: the close status is glyph's own
	out := startPeerJS(t, node, s.url, "notify-reply").wait()
	if out.err != nil {
		t.Errorf("peer.js: %v", out.err)
	}
	var c *peer.Conn
	select {
	case c = <-s.conns:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	var notifyGot map[string]any
	select {
	case notifyGot = <-s.notifyGot:
	case <-time.After(5 * time.Second):
		t.Fatal("notifyme never called duplex.js")
	}

	got := out.steps["notify-reply"]
	if want := js(t, `{"id":1,"items":["after the notification"]}`); !reflect.DeepEqual(any(got), want) {
		t.Errorf("duplex.js's call: got %s, want %s", compact(got), compact(want))
	}
	if notifyGot != nil {
		t.Errorf("glyph's call after the notification: %v", notifyGot)
	}
	select {
	case <-c.Done():
		if service.KindOf(c.Err()) == service.KindBadFrame {
			t.Errorf("glyph closed the connection: %v", c.Err())
		}
	default:
	}
	if t.Failed() {
		t.Logf("peer.js printed:\n%s", out)
	}
}
