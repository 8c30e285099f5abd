package hypernats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/callchain"
	"iter"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Defaults of the client's options.
const (
	DefaultWindow      = 32
	DefaultCallTimeout = 30 * time.Second
)

// A ClientOption configures [NewClient].
type ClientOption func(*Client)

// WithClientPrefix sets the subject prefix of the service called
// (default [DefaultPrefix]), as the server's [WithPrefix].
func WithClientPrefix(p string) ClientOption { return func(c *Client) { c.prefix = p } }

// WithClientCodec sets the codec of calls and replies (default
// [CodecGlyph], which carries every glyph value; [CodecJSON] is plain
// JSON, lossy as spec.md says).
func WithClientCodec(codec Codec) ClientOption { return func(c *Client) { c.codec = codec } }

// WithClientHeader sends a header with every call; it arrives in the
// service's [service.Request.Header]. Headers of the call's context
// ([peer.WithHeader]) are sent too, and win over these.
func WithClientHeader(name, value string) ClientOption {
	return func(c *Client) { c.header = append(c.header, [2]string{name, value}) }
}

// WithClientWindow sets how many items of a streamed result the client
// takes ahead of its caller (default [DefaultWindow]): the server sends
// no more until the caller has consumed some.
func WithClientWindow(n int) ClientOption { return func(c *Client) { c.window = max(n, 1) } }

// WithCallTimeout bounds calls whose context has no deadline (default
// [DefaultCallTimeout]): NATS loses a request that no one receives during
// a reconnection without telling, and this is when the client stops
// waiting.
func WithCallTimeout(d time.Duration) ClientOption { return func(c *Client) { c.timeout = d } }

// WithClientInterceptors runs ics around the client's calls, the first
// given the outermost (package intercept): [Client.Call] is a unary call
// and [Client.Stream] a [intercept.StreamServer] stream whose Receive
// yields the items; Procedure is the method name, Args the arguments
// (named ones as a map) and Peer the server (transport "nats", the
// subject prefix). What an interceptor puts in the call's Header is sent
// as NATS message headers, over those of the call's context.
func WithClientInterceptors(ics ...intercept.Interceptor) ClientOption {
	return func(c *Client) { c.interceptors = append(c.interceptors, ics...) }
}

// Client calls the methods of a service that a [Server] serves, over a
// NATS connection. It is safe for concurrent use; make one with
// [NewClient] and release it with [Client.Close].
type Client struct {
	nc      *nats.Conn
	prefix  string
	codec   Codec
	header  [][2]string
	window  int
	timeout time.Duration
	limits  wire.Limits

	start   sync.Once
	err     error // why the client could not start
	closed  atomic.Bool
	inbox   string
	sub     *nats.Subscription
	status  chan nats.Status
	next    atomic.Uint64
	lost    atomic.Pointer[chan struct{}] // closed when the connection drops
	mu      sync.Mutex                    // guards pending, and sending to its calls
	pending map[uint64]*pendingCall

	subjects sync.Map                      // method → its subject
	nsubject atomic.Int32                  // subjects stored
	timeouts atomic.Pointer[timeoutHeader] // the Glyph-Timeout header sent last
	msgs     sync.Pool                     // of *nats.Msg with a Header, for requests
	unary    sync.Pool                     // of *pendingCall with a channel of one reply

	interceptors []intercept.Interceptor // WithClientInterceptors
	chain        *callchain.Chain        // nil without interceptors
}

// pendingCall is a call awaiting its replies.
type pendingCall struct {
	token   uint64
	subject string
	ch      chan *nats.Msg
	overrun chan struct{} // for a stream, closed when a reply did not fit in ch
	once    sync.Once
}

// timeoutHeader is the value of a Glyph-Timeout header: calls made
// within the same millisecond of their deadlines share it.
type timeoutHeader struct {
	ms    int64
	value []string
}

// NewClient returns a client calling over nc. It subscribes to its reply
// inbox and watches the connection on its first call.
func NewClient(nc *nats.Conn, opts ...ClientOption) *Client {
	c := &Client{nc: nc, prefix: DefaultPrefix, codec: CodecGlyph, window: DefaultWindow, timeout: DefaultCallTimeout,
		limits: wire.Limits{}.Resolved(), pending: map[uint64]*pendingCall{}}
	for _, o := range opts {
		o(c)
	}
	c.chain = callchain.New(intercept.TransportNATS, c.prefix, c.interceptors)
	return c
}

// init subscribes to the client's reply inbox and starts watching the
// connection, once.
func (c *Client) init() error {
	if c.closed.Load() {
		return &service.Error{Kind: service.KindUnavailable, Message: "the client is closed", Err: nats.ErrBadSubscription}
	}
	c.start.Do(func() {
		c.inbox = c.nc.NewInbox()
		lost := make(chan struct{})
		c.lost.Store(&lost)
		c.status = c.nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
		go c.watch(c.status)
		c.sub, c.err = c.nc.Subscribe(c.inbox+".*", c.receive)
		if c.err != nil {
			c.nc.RemoveStatusListener(c.status)
			c.err = unavailable("", "cannot subscribe to the reply inbox", c.err)
		}
	})
	return c.err
}

// watch fails the calls in flight whenever the connection drops: their
// replies may never come.
func (c *Client) watch(status chan nats.Status) {
	for range status {
		fresh := make(chan struct{})
		old := c.lost.Swap(&fresh)
		close(*old)
	}
}

// Close releases the client's subscription; calls in flight fail.
func (c *Client) Close() error {
	if err := c.init(); err != nil || c.closed.Swap(true) {
		return nil
	}
	c.nc.RemoveStatusListener(c.status)
	err := c.sub.Unsubscribe()
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
		err = nil
	}
	return err
}

// receive hands a reply to its call; replies to calls that ended are
// dropped. It sends with c.mu held, so that once close has removed a call
// nothing more reaches its channel, and the channel can serve another
// call.
func (c *Client) receive(m *nats.Msg) {
	token, err := strconv.ParseUint(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 36, 64)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.pending[token]
	if pc == nil {
		return
	}
	select {
	case pc.ch <- m:
	default:
		if pc.overrun != nil {
			pc.once.Do(func() { close(pc.overrun) })
		}
	}
}

// open registers a call awaiting up to buffer replies at once; a stream's
// call (stream) is told when more came.
func (c *Client) open(buffer int, stream bool) *pendingCall {
	var pc *pendingCall
	if buffer == 1 && !stream {
		pc, _ = c.unary.Get().(*pendingCall)
	}
	if pc == nil {
		pc = &pendingCall{ch: make(chan *nats.Msg, buffer)}
		if stream {
			pc.overrun = make(chan struct{})
		}
	}
	pc.token = c.next.Add(1)
	var b [64]byte
	pc.subject = string(strconv.AppendUint(append(append(b[:0], c.inbox...), '.'), pc.token, 36))
	c.mu.Lock()
	c.pending[pc.token] = pc
	c.mu.Unlock()
	return pc
}

// close ends a call: replies still to come are dropped, and a unary
// call's pendingCall serves another call.
func (c *Client) close(pc *pendingCall) {
	c.mu.Lock()
	delete(c.pending, pc.token)
	c.mu.Unlock()
	if pc.overrun != nil || cap(pc.ch) != 1 {
		return
	}
	select {
	case <-pc.ch: // a reply that came after the call stopped waiting
	default:
	}
	c.unary.Put(pc)
}

// Call calls method ("hello", "Search.run_query") with positional args
// or named arguments (not both), and decodes the result into result (a
// pointer, as wire.Unmarshal or json.Unmarshal take for the client's
// codec), or drops it when result is nil. A streamed result arrives as
// one list.
//
// Errors are *[service.Error] values: the service's error with its kind,
// message and logref, wrapping a [*ServiceError] with the micro error
// headers; [service.KindUnavailable] when nothing answers on the subject
// (no replica serves it, or the method does not exist: NATS cannot tell
// these apart) or the connection dropped while the call was in flight
// (the call may or may not have run: retry only what is safe to run
// twice); [service.KindCanceled] or [service.KindDeadlineExceeded] when
// ctx ends; [service.KindUnsupported] for a callback or a streamed
// argument, which do not travel over NATS.
func (c *Client) Call(ctx context.Context, method string, args []any, named map[string]any, result any) error {
	return c.chain.Call(ctx, method, args, named, result, false, func(ctx context.Context) error { return c.call(ctx, method, args, named, result) })
}

// call is Call below the interceptors.
func (c *Client) call(ctx context.Context, method string, args []any, named map[string]any, result any) error {
	if err := c.init(); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	msg, err := c.request(ctx, method, args, named, 0)
	if err != nil {
		return err
	}
	pc := c.open(1, false)
	defer c.close(pc)
	m, err := c.roundTrip(ctx, method, msg, pc)
	if err != nil {
		return err
	}
	if e := c.replyError(method, m); e != nil {
		return e
	}
	return c.decode(method, m.Data, result)
}

// Stream calls method as [Client.Call] does and yields the items of its
// streamed result as they arrive, decoded into any; a result that is not
// a stream is one item. The client takes [WithClientWindow] items ahead
// of the loop and grants the server more as the loop consumes them, so a
// slow loop slows the server instead of filling memory. Breaking off the
// loop cancels the stream. An error is the last item.
func (c *Client) Stream(ctx context.Context, method string, args []any, named map[string]any) iter.Seq2[any, error] {
	return c.chain.Stream(ctx, method, args, named, func(ctx context.Context) iter.Seq2[any, error] { return c.stream(ctx, method, args, named) })
}

// stream is Stream below the interceptors.
func (c *Client) stream(ctx context.Context, method string, args []any, named map[string]any) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		if err := c.init(); err != nil {
			yield(nil, err)
			return
		}
		ctx, cancel := c.withTimeout(ctx)
		defer cancel()
		msg, err := c.request(ctx, method, args, named, c.window)
		if err != nil {
			yield(nil, err)
			return
		}
		pc := c.open(c.window+2, true)
		defer c.close(pc)
		m, err := c.roundTrip(ctx, method, msg, pc)
		s := clientStream{c: c, method: method}
		for ; err == nil; m, err = c.await(ctx, method, pc) {
			v, more, err := s.take(m)
			if err != nil {
				s.cancel()
				yield(nil, err)
				return
			}
			if !more {
				return
			}
			if !yield(v, nil) {
				s.cancel()
				return
			}
			s.consumed()
		}
		s.cancel()
		yield(nil, err)
	}
}

// clientStream is the client's side of one streamed result.
type clientStream struct {
	c       *Client
	method  string
	seq     int
	flow    string // where credit goes
	unacked int    // items consumed and not yet granted again
}

// take reads one stream message: an item, the end (more is false), or an
// error.
func (s *clientStream) take(m *nats.Msg) (v any, more bool, err error) {
	if e := s.c.replyError(s.method, m); e != nil {
		return nil, false, e
	}
	kind := m.Header.Get(headerStream)
	if kind != "item" && kind != "end" {
		return nil, false, &service.Error{Op: s.method, Kind: service.KindBadFrame, Message: "the reply to a stream request is not a stream message"}
	}
	if n, _ := strconv.Atoi(m.Header.Get(headerSeq)); n != s.seq+1 {
		return nil, false, &service.Error{Op: s.method, Kind: service.KindUnavailable, Message: fmt.Sprintf("stream message %d arrived after %d: messages were lost", n, s.seq)}
	}
	s.seq++
	if kind == "end" {
		return nil, false, nil
	}
	if s.seq == 1 {
		s.flow = m.Header.Get(headerFlow)
	}
	if err := s.c.decode(s.method, m.Data, &v); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// consumed notes an item the caller took, and grants credit for half a
// window at a time.
func (s *clientStream) consumed() {
	s.unacked++
	if s.flow == "" || s.unacked < max(s.c.window/2, 1) {
		return
	}
	m := &nats.Msg{Subject: s.flow, Header: nats.Header{headerCredit: []string{strconv.Itoa(s.unacked)}}}
	if s.c.nc.PublishMsg(m) == nil {
		s.unacked = 0
	}
}

// cancel tells the server to stop producing.
func (s *clientStream) cancel() {
	if s.flow != "" {
		s.c.nc.PublishMsg(&nats.Msg{Subject: s.flow, Header: nats.Header{headerStream: []string{"cancel"}}})
		s.flow = ""
	}
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

// request builds the request message of a call (spec.md).
func (c *Client) request(ctx context.Context, method string, args []any, named map[string]any, window int) (*nats.Msg, error) {
	if method == "" || strings.ContainsAny(method, "*> \t\r\n/") || strings.HasPrefix(method, ".") || strings.HasSuffix(method, ".") || strings.Contains(method, "..") {
		return nil, &service.Error{Op: method, Kind: service.KindInvalid, Message: "bad method name: a path with \".\" between its names"}
	}
	if err := travels(method, args, named); err != nil {
		return nil, err
	}
	var payload any
	switch {
	case len(args) > 0 && len(named) > 0:
		return nil, &service.Error{Op: method, Kind: service.KindInvalid, Message: "pass arguments by position or by name, not both"}
	case len(named) > 0:
		payload = named
	case len(args) > 0:
		payload = args
	}
	msg := c.newMsg()
	var body []byte
	if payload != nil {
		var err error
		if c.codec == CodecGlyph {
			body, err = wire.AppendMarshal(msg.Data[:0], payload)
		} else {
			body, err = json.Marshal(payload)
		}
		if err != nil {
			return nil, &service.Error{Op: method, Kind: service.KindInvalid, Message: "cannot encode the arguments: " + err.Error(), Err: err}
		}
	}
	h := msg.Header
	for _, kv := range c.header {
		h[kv[0]] = append(h[kv[0]], kv[1])
	}
	for k, v := range peer.Header(ctx) {
		h[k] = []string{v}
	}
	for k, v := range client.CallHeader(ctx) {
		h[k] = v
	}
	h[headerContentType] = contentTypes[c.codec]
	if dl, ok := ctx.Deadline(); ok {
		ms := (time.Until(dl) + time.Millisecond - 1) / time.Millisecond
		h[headerTimeout] = c.timeoutHeader(int64(max(ms, 1)))
	}
	if window > 0 {
		h[headerWindow] = []string{strconv.Itoa(window)}
	}
	msg.Subject, msg.Data = c.subject(method), body
	return msg, nil
}

// newMsg returns a request message with an empty Header and Data, from
// the client's pool: nats.go copies a message's headers and data into its
// buffer while publishing, so a request (and the memory of its Data)
// serves again once published.
func (c *Client) newMsg() *nats.Msg {
	if m, ok := c.msgs.Get().(*nats.Msg); ok {
		return m
	}
	return &nats.Msg{Header: make(nats.Header, 2+len(c.header))}
}

// freeMsg returns a published request to the pool.
func (c *Client) freeMsg(m *nats.Msg) {
	h, data := m.Header, m.Data[:0]
	if cap(data) > maxPooledBuf {
		data = nil
	}
	clear(h)
	*m = nats.Msg{Header: h, Data: data}
	c.msgs.Put(m)
}

// subject returns the subject of method.
func (c *Client) subject(method string) string {
	if s, ok := c.subjects.Load(method); ok {
		return s.(string)
	}
	s := c.prefix + "." + method
	if c.nsubject.Add(1) <= maxSubjects {
		c.subjects.Store(method, s)
	}
	return s
}

// maxSubjects bounds the subjects a client keeps.
const maxSubjects = 1024

// timeoutHeader returns the value of a Glyph-Timeout header of ms
// milliseconds, shared by the calls of the same millisecond (nats.go
// only reads it).
func (c *Client) timeoutHeader(ms int64) []string {
	if t := c.timeouts.Load(); t != nil && t.ms == ms {
		return t.value
	}
	t := &timeoutHeader{ms: ms, value: []string{strconv.FormatInt(ms, 10)}}
	c.timeouts.Store(t)
	return t.value
}

// contentTypes are the Content-Type header values of the codecs, shared
// by every request (nats.go only reads them).
var contentTypes = [...][]string{CodecJSON: {MediaTypeJSON}, CodecGlyph: {MediaTypeGlyph}}

// travels refuses arguments that NATS cannot carry: functions
// (callbacks), channels and iterators (streamed arguments).
func travels(method string, args []any, named map[string]any) error {
	check := func(v any) error {
		if v == nil {
			return nil
		}
		switch reflect.TypeOf(v).Kind() {
		case reflect.Func:
			if strings.HasPrefix(reflect.TypeOf(v).String(), "iter.Seq") {
				return &service.Error{Op: method, Kind: service.KindUnsupported, Message: "streamed arguments do not travel over nats: pass a list"}
			}
			return &service.Error{Op: method, Kind: service.KindUnsupported, Message: "callback arguments do not travel over nats"}
		case reflect.Chan:
			return &service.Error{Op: method, Kind: service.KindUnsupported, Message: "streamed arguments do not travel over nats: pass a list"}
		}
		return nil
	}
	for _, a := range args {
		if err := check(a); err != nil {
			return err
		}
	}
	for _, a := range named {
		if err := check(a); err != nil {
			return err
		}
	}
	return nil
}

// roundTrip publishes a call's request with pc's reply subject and waits
// for the first reply.
func (c *Client) roundTrip(ctx context.Context, method string, msg *nats.Msg, pc *pendingCall) (*nats.Msg, error) {
	lost := *c.lost.Load()
	if st := c.nc.Status(); st != nats.CONNECTED {
		return nil, unavailable(method, fmt.Sprintf("not connected to nats (%s)", strings.ToLower(st.String())), nats.ErrDisconnected)
	}
	msg.Reply = pc.subject
	sent := int64(len(msg.Data))
	err := c.nc.PublishMsg(msg)
	c.freeMsg(msg)
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return nil, &service.Error{Op: method, Kind: service.KindTooLarge, Message: "the arguments are over the server's max_payload", Err: err}
		}
		return nil, unavailable(method, "cannot publish the call", err)
	}
	sizes := callchain.Sizes(ctx)
	sizes.AddOut(sent)
	select {
	case m := <-pc.ch:
		sizes.AddIn(int64(len(m.Data)))
		return m, nil
	case <-lost:
		return nil, unavailable(method, "the connection to nats dropped: the call may or may not have run", nats.ErrDisconnected)
	case <-ctx.Done():
		return nil, ctxError(method, ctx.Err())
	case <-pc.overrun:
		return nil, &service.Error{Op: method, Kind: service.KindBadFrame, Message: "the server sent more than the window"}
	}
}

// await waits for the next reply of a call.
func (c *Client) await(ctx context.Context, method string, pc *pendingCall) (*nats.Msg, error) {
	lost := *c.lost.Load()
	sizes := callchain.Sizes(ctx)
	select {
	case m := <-pc.ch:
		sizes.AddIn(int64(len(m.Data)))
		return m, nil
	default:
	}
	select {
	case m := <-pc.ch:
		sizes.AddIn(int64(len(m.Data)))
		return m, nil
	case <-lost:
		return nil, unavailable(method, "the connection to nats dropped during the stream", nats.ErrDisconnected)
	case <-ctx.Done():
		return nil, ctxError(method, ctx.Err())
	case <-pc.overrun:
		return nil, &service.Error{Op: method, Kind: service.KindBadFrame, Message: "the server sent more than the window"}
	}
}

func ctxError(method string, err error) *service.Error {
	k := service.KindOf(err)
	return &service.Error{Op: method, Kind: k, Message: k.String(), Err: err}
}

func unavailable(method, msg string, err error) *service.Error {
	return &service.Error{Op: method, Kind: service.KindUnavailable, Message: msg, Err: err}
}

// ServiceError is the error of a reply as its micro headers say it: the
// Nats-Service-Error-Code (the kind's HTTP status, spec.md) and the
// Nats-Service-Error description. The *service.Error the client returns
// wraps it.
type ServiceError struct {
	Code        int
	Description string
}

// Error returns the code and the description.
func (e *ServiceError) Error() string {
	return fmt.Sprintf("nats service error %d: %s", e.Code, e.Description)
}

// replyError returns the error a reply carries: a service error (the
// micro headers), or no responders (a status 503 from the NATS server).
func (c *Client) replyError(method string, m *nats.Msg) *service.Error {
	if m.Header == nil {
		return nil
	}
	if code := m.Header.Get(micro.ErrorCodeHeader); code != "" {
		n, _ := strconv.Atoi(code)
		se := &ServiceError{Code: n, Description: m.Header.Get(micro.ErrorHeader)}
		e := decodeError(c.codec, m.Data, n, se.Description)
		e.Err = se
		return e
	}
	if m.Header.Get("Status") == "503" && len(m.Data) == 0 {
		return unavailable(method, "no responders: no server serves "+c.prefix+"."+method, nats.ErrNoResponders)
	}
	return nil
}

// decode decodes a reply's body into result.
func (c *Client) decode(method string, data []byte, result any) error {
	if result == nil {
		return nil
	}
	var err error
	if c.codec == CodecGlyph {
		err = wire.UnmarshalConfig(data, result, wire.DecodeConfig{Limits: c.limits, SpoolThreshold: -1})
	} else {
		err = json.Unmarshal(data, result)
	}
	if err != nil {
		return &service.Error{Op: method, Kind: service.KindInvalid, Message: "cannot decode the result: " + err.Error(), Err: err}
	}
	return nil
}
