package client

import (
	"context"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/plain"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// peerSchemes are the URL schemes of peer endpoints.
var peerSchemes = []string{"ws://", "wss://", "tcp://", "tls://", "unix://"}

// WithPeerOptions configures the client's peer connections (codecs,
// frame size, keepalive, ...; see [peer.Option]); among them,
// peer.WithMaxFrameSize bounds the frames Dial reads too. A handler
// ([peer.WithHandler]) is ignored: the client serves only the callbacks
// it registers. Without [peer.WithLimits] the connections take the
// client's limits (WithLimits), and without peer.WithMaxFrameSize the
// bound of WithMaxResponseBytes when there is one. Navigating links and
// forms needs the glyph codec, the first by default: the others carry
// plain data only.
func WithPeerOptions(opts ...peer.Option) Option {
	opts = append([]peer.Option(nil), opts...)
	return func(c *Client) { c.peerOpts = append(c.peerOpts, opts...) }
}

// peerState holds a client's peer connections, one per endpoint.
type peerState struct {
	mu     sync.Mutex // guards the fields below
	slots  map[string]*peerSlot
	closed bool
}

// peerSlot is the connection to one endpoint, dialled when first needed
// and again after it went down.
type peerSlot struct {
	mu      sync.Mutex // guards the fields below
	conn    *peer.Conn
	dialing chan struct{} // closed when the dial under way ends; nil if none
}

// Close closes the client's peer connections; calls over peers then fail
// with [service.KindUnavailable]. Calls in flight fail as a closed connection makes
// them. A client that only talks HTTP holds no connections of its own
// (net/http's pool is the HTTPClient's) and need not be closed.
func (c *Client) Close() error {
	c.peers.mu.Lock()
	c.peers.closed = true
	slots := c.peers.slots
	c.peers.slots = nil
	c.peers.mu.Unlock()
	for _, s := range slots {
		s.mu.Lock()
		if s.conn != nil {
			s.conn.Close()
		}
		s.mu.Unlock()
	}
	return nil
}

// parsePeerURL splits a peer URL, "<endpoint>" or "<endpoint>#<path>",
// into the endpoint to dial and the method path ("/" when none). A tcp://
// or tls:// URL may also give the path after host:port. ok is false for URLs of
// other schemes.
func parsePeerURL(u string) (endpoint, path string, ok bool) {
	scheme := ""
	for _, s := range peerSchemes {
		if len(u) >= len(s) && strings.EqualFold(u[:len(s)], s) {
			scheme = s
			break
		}
	}
	if scheme == "" {
		return "", "", false
	}
	endpoint, path, _ = strings.Cut(u, "#")
	if scheme == "tcp://" || scheme == "tls://" {
		rest := endpoint[len(scheme):]
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			if path == "" {
				path = rest[i:]
			}
			endpoint = endpoint[:len(scheme)+i]
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return endpoint, path, true
}

// peerURL is the URL of a method path at an endpoint.
func peerURL(endpoint, path string) string { return endpoint + "#" + path }

// peerConn returns the connection to endpoint, dialling it when there is
// none or it went down.
func (c *Client) peerConn(ctx context.Context, op, endpoint string) (*peer.Conn, error) {
	c.peers.mu.Lock()
	if c.peers.closed {
		c.peers.mu.Unlock()
		return nil, &service.Error{Op: op, Kind: service.KindUnavailable, Message: "the client is closed"}
	}
	if c.peers.slots == nil {
		c.peers.slots = map[string]*peerSlot{}
	}
	s := c.peers.slots[endpoint]
	if s == nil {
		s = &peerSlot{}
		c.peers.slots[endpoint] = s
	}
	c.peers.mu.Unlock()
	for {
		s.mu.Lock()
		if s.conn != nil && s.conn.Err() == nil {
			conn := s.conn
			s.mu.Unlock()
			return conn, nil
		}
		if ch := s.dialing; ch != nil {
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, transportError(ctx, op, ctx.Err())
			}
		}
		ch := make(chan struct{})
		s.dialing = ch
		s.mu.Unlock()
		conn, err := c.dialPeer(ctx, endpoint)
		s.mu.Lock()
		s.dialing = nil
		if err == nil {
			s.conn = conn
		}
		s.mu.Unlock()
		close(ch)
		if err != nil {
			return nil, peerError(op, err)
		}
		c.peers.mu.Lock()
		closed := c.peers.closed
		c.peers.mu.Unlock()
		if closed {
			conn.Close()
			return nil, &service.Error{Op: op, Kind: service.KindUnavailable, Message: "the client is closed"}
		}
		return conn, nil
	}
}

// dialPeer connects to endpoint and runs the handshake.
func (c *Client) dialPeer(ctx context.Context, endpoint string) (*peer.Conn, error) {
	// The client's defaults first, so that WithPeerOptions' win, and no
	// handler last.
	opts := []peer.Option{peer.WithLimits(c.limits)}
	var dialOpts []peer.DialOption
	if c.maxResponse > 0 {
		max := peer.WithMaxFrameSize(int(min(c.maxResponse, 1<<31-1)))
		opts, dialOpts = append(opts, max), append(dialOpts, max)
	}
	for _, o := range c.peerOpts {
		opts = append(opts, o)
		if d, ok := o.(peer.DialOption); ok { // the frame limit
			dialOpts = append(dialOpts, d)
		}
	}
	opts = append(opts, peer.WithHandler(nil))
	if hc, ok := c.http.(*http.Client); ok {
		dialOpts = append(dialOpts, peer.WithHTTPClient(hc))
		if tr, ok := hc.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
			// tls:// trusts and presents what https:// and wss:// do.
			dialOpts = append(dialOpts, peer.WithTLS(tr.TLSClientConfig))
		}
	}
	if len(c.header) > 0 {
		h := c.header.Clone()
		h.Del("Accept")
		dialOpts = append(dialOpts, peer.WithHTTPHeader(h))
	}
	fc, err := peer.Dial(ctx, endpoint, dialOpts...)
	if err != nil {
		return nil, err
	}
	return peer.Client(ctx, fc, opts...)
}

// peerError gives err, a *[service.Error] from package peer or another
// error, the operation op.
func peerError(op string, err error) error {
	se, ok := err.(*service.Error)
	if !ok {
		return &service.Error{Op: op, Kind: service.KindOf(err), Message: err.Error(), Err: err}
	}
	if se.Op == "" {
		c := *se
		c.Op = op
		return &c
	}
	return err
}

// peerCall is a call over a peer connection whose results are read.
type peerCall struct {
	c        *Client
	endpoint string
	method   string // the method path, the base of the results' URLs
	op       string
	st       *peer.ClientStream
	releases []func() // of the callbacks registered for the call
	// sender sends the items of a streamed argument, under ctx; nil if
	// the call has none.
	sender *seqSender
	ctx    context.Context
}

// startPeer calls method at endpoint with payload. Go funcs among the
// values of a map payload are registered as callbacks for the duration
// of the call, and sent as their names. The readers and blobs among args
// are closed once sent (by the encoder), or here when the call fails.
func (c *Client) startPeer(ctx context.Context, op, endpoint, method string, payload any, safe bool, header map[string]string, args []any) (*peerCall, error) {
	pc := &peerCall{c: c, endpoint: endpoint, method: method, op: op}
	fail := func(err error) (*peerCall, error) {
		pc.close()
		closeArgs(args) // as HTTP does; once sent, the encoder closed them
		return nil, err
	}
	conn, err := c.peerConn(ctx, op, endpoint)
	if err != nil {
		return fail(err)
	}
	if named, ok := payload.(map[string]any); ok {
		for k, a := range named {
			if !isFunc(a) {
				continue
			}
			h, err := c.callbackHandler(op, k, a)
			if err != nil {
				return fail(err)
			}
			name := peer.NewCallbackName()
			pc.releases = append(pc.releases, conn.Register(name, h))
			named[k] = name
		}
		if conn.Codec() != "glyph" && holdsBlob(named) {
			return fail(&service.Error{Op: op, Kind: service.KindUnsupported, Message: "blobs need the glyph codec; the connection speaks " + conn.Codec()})
		}
	}
	// The arguments in one message, not a stream of one item: the
	// server binds them as HTTP does, so a list for an iter.Seq input is
	// its items (a streamed argument goes by startPeerSeq instead).
	if h := CallHeader(ctx); len(h) > 0 {
		merged := make(map[string]string, len(h)+len(header))
		for k, vs := range h {
			if _, own := c.callHeader[k]; !own { // the client's own headers win
				merged[k] = strings.Join(vs, ", ")
			}
		}
		maps.Copy(merged, header) // and so do the form's
		header = merged
	}
	st, err := conn.CallStream(ctx, method, payload, c.callOptions(ctx, safe, header)...)
	if err != nil {
		return fail(peerError(op, err))
	}
	pc.st = st
	return pc, nil
}

func (pc *peerCall) release() {
	for _, r := range pc.releases {
		r()
	}
	pc.releases = nil
}

// close ends the call (canceling it if its results have not ended) and
// releases its callbacks.
func (pc *peerCall) close() {
	if pc.st != nil {
		pc.st.Close()
	}
	pc.waitSender()
	pc.release()
}

// value makes a result a Value that keeps its connection.
func (pc *peerCall) value(x any) (*Value, error) {
	return pc.c.peerValue(pc.op, x, pc.endpoint, pc.method)
}

func (c *Client) peerValue(op string, x any, endpoint, base string) (*Value, error) {
	if !plain.Is(x) {
		var err error
		if x, err = hyper.ResolveURLs(x, base); err != nil {
			return nil, &service.Error{Op: op, Kind: service.KindInternal, Message: "bad URL in response: " + err.Error(), Err: err}
		}
	}
	return &Value{c: c, v: x, base: base, peer: endpoint}, nil
}

// maxStreamItems is how many items of a streamed result Call collects.
func (c *Client) maxStreamItems() int {
	if n := c.limits.MaxItems; n != 0 {
		return n
	}
	return wire.DefaultLimits().MaxItems
}

// error is the call's error when Recv failed with err: why sending its
// streamed argument failed, if it did, else err.
func (pc *peerCall) error(err error) error {
	if e := pc.sendFailure(); e != nil {
		return e
	}
	return peerError(pc.op, err)
}

// collect reads the whole result: a unary one as it is, a streamed one as
// the list of its items (as HTTP sends it), at most maxStreamItems.
func (pc *peerCall) collect() (*Value, error) {
	defer pc.close()
	first, err := pc.st.Recv()
	if err == io.EOF {
		if pc.st.Streamed() {
			return pc.value([]any{}) // a stream of no item
		}
		return pc.value(nil)
	}
	if err != nil {
		return nil, pc.error(err)
	}
	if !pc.st.Streamed() {
		return pc.value(first)
	}
	items := []any{first}
	max := pc.c.maxStreamItems()
	for {
		v, err := pc.st.Recv()
		if err == io.EOF {
			return pc.value(items)
		}
		if err != nil {
			return nil, pc.error(err)
		}
		if max >= 0 && len(items) >= max {
			return nil, &service.Error{Op: pc.op, Kind: service.KindTooLarge, Message: fmt.Sprintf("more than %d items streamed", max)}
		}
		items = append(items, v)
	}
}

// items yields the results as they arrive: the items of a streamed
// result, or those of a unary list; a unary nil yields nothing and any
// other unary value itself.
func (pc *peerCall) items(yield func(*Value, error) bool) {
	defer pc.close()
	first := true
	for {
		x, err := pc.st.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(nil, pc.error(err))
			return
		}
		if first && !pc.st.Streamed() {
			v, err := pc.value(x)
			if err != nil {
				yield(nil, err)
				return
			}
			v.yieldItems(yield)
			return
		}
		first = false
		v, err := pc.value(x)
		if !yield(v, err) || err != nil {
			return
		}
	}
}

// yieldItems yields v's items when it is a list, nothing when it is nil,
// else v.
func (v *Value) yieldItems(yield func(*Value, error) bool) {
	switch x := v.v.(type) {
	case nil:
	case []any:
		for i := range x {
			if !yield(v.child(x[i], v.base, fmt.Sprint(i)), nil) {
				return
			}
		}
	default:
		yield(v, nil)
	}
}

// Stream calls v as Call does and yields the items of its result as they
// arrive: over a peer connection a function that streams its result
// (returns an iter.Seq) sends one message per item, each yielded when it
// comes; over HTTP the stream arrives as one list, whose items are
// yielded once it is read. Either way a result that is a list yields its
// items, nil yields nothing and any other value is yielded on its own.
// An error is yielded last, with a nil Value. Breaking off the loop
// cancels a peer call (the function's stream stops) and releases the
// callbacks the call was given.
func (v *Value) Stream(ctx context.Context, args ...any) iter.Seq2[*Value, error] {
	if v.c.open != nil {
		if method, u, ok := v.requests(); ok {
			call := v.c.describeCall(v, method, u, args)
			return v.c.streamCall(ctx, call, func(ctx context.Context) iter.Seq2[*Value, error] { return v.streamItems(ctx, args) })
		}
	}
	return v.streamItems(ctx, args)
}

// streamItems is Stream below the interceptors.
func (v *Value) streamItems(ctx context.Context, args []any) iter.Seq2[*Value, error] {
	return func(yield func(*Value, error) bool) {
		pc, err := v.startCall(ctx, args)
		if err != nil {
			yield(nil, err)
			return
		}
		if pc != nil {
			pc.items(yield)
			return
		}
		res, err := v.call(ctx, args)
		if err != nil {
			yield(nil, err)
			return
		}
		res.yieldItems(yield)
	}
}

// peerTarget says whether a link or form URL of v is called over a peer
// connection, and where: a path in a value that came over a peer, or a
// peer URL.
func (v *Value) peerTarget(u string) (endpoint, method string, ok bool) {
	if v.peer != "" && strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		return v.peer, u, true
	}
	return parsePeerURL(u)
}

// fullURL returns u as a client can use it again: a path that came over a
// peer as "<endpoint>#<path>".
func (v *Value) fullURL(u string) string {
	if v.peer != "" && strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		return peerURL(v.peer, u)
	}
	return u
}

// startCall starts a call of v over a peer connection; nil when v is not
// called over one (or makes no request, as an inline link).
func (v *Value) startCall(ctx context.Context, args []any) (*peerCall, error) {
	switch x := v.v.(type) {
	case hyper.Link:
		ep, method, ok := v.peerTarget(x.URL)
		if !ok || x.Inline {
			return nil, nil
		}
		if len(args) > 0 {
			return nil, v.errorf(service.KindInvalid, "a link takes no arguments, got %d", len(args))
		}
		return v.c.startPeer(ctx, v.op("GET", v.fullURL(x.URL)), ep, method, nil, true, x.Headers, nil)
	case hyper.Form:
		ep, method, ok := v.peerTarget(x.URL)
		if !ok {
			return nil, nil
		}
		payload, seq, err := v.peerArgs(x, args)
		if err != nil {
			closeArgs(args)
			return nil, err
		}
		m := strings.ToUpper(x.HTTPMethod())
		if seq != nil {
			return v.c.startPeerSeq(ctx, v.op(m, v.fullURL(x.URL)), ep, method, seq, m == http.MethodGet, x.Headers)
		}
		return v.c.startPeer(ctx, v.op(m, v.fullURL(x.URL)), ep, method, payload, m == http.MethodGet, x.Headers, args)
	}
	return nil, nil
}

// peerArgs binds args to f's inputs, as for HTTP, and returns them as
// the named arguments of a peer call. Envelopes are HTTP's business:
// every argument travels in the one map, except an input sent as a blob
// body that was not given (the server applies its default). A streamed
// argument (a Go iterator) is returned as seq instead: the call then
// sends its items, and nothing else, so no other argument may be given.
func (v *Value) peerArgs(f hyper.Form, args []any) (named map[string]any, seq *seqArg, err error) {
	var buf [4]arg
	bound, err := v.bindArgs(f, v.plan(f), args, buf[:0])
	if err != nil {
		return nil, nil, err
	}
	other := ""
	for i := range bound {
		a := &bound[i]
		s, ok := a.value.(*seqArg)
		switch {
		case ok && seq != nil:
			return nil, nil, v.errorf(service.KindInvalid, "arguments %q and %q are both sequences: over a peer connection a call streams one argument", seq.name, s.name)
		case ok:
			seq = s
		case a.given && other == "":
			other = a.in.Name
		}
	}
	if seq != nil {
		if other != "" {
			return nil, nil, v.errorf(service.KindInvalid, "argument %q streams: over a peer connection such a call sends only the sequence's items, so argument %q cannot be given (leave it to its default)", seq.name, other)
		}
		return nil, seq, nil
	}
	named = make(map[string]any, len(bound))
	for i := range bound {
		a := &bound[i]
		e := strings.ToLower(f.Envelope)
		if a.in.Envelope != "" {
			e = strings.ToLower(a.in.Envelope)
		}
		switch {
		case e == envNone && a.given:
			return nil, nil, v.errorf(service.KindInvalid, "argument %q: the form sends no arguments (envelope none)", a.in.Name)
		case e == envNone, e == envBlob && !a.given:
			continue
		}
		named[a.in.Name] = a.value
	}
	return named, nil, nil
}

// isFunc reports whether a is a Go func: a callback argument.
func isFunc(a any) bool {
	return a != nil && reflect.TypeOf(a).Kind() == reflect.Func
}

// callbackHandler serves the calls of a callback argument, fn, a Go func
// that may take a context.Context first and returns nothing, a value, an
// error, or a value and an error. The call's payload holds its arguments
// (nil: none; a list: them; anything else: the one argument); missing
// ones are zero, and each is converted to the parameter's type as
// [Value.Decode] converts.
func (c *Client) callbackHandler(op, name string, fn any) (peer.Handler, error) {
	rv := reflect.ValueOf(fn)
	t := rv.Type()
	hasCtx := t.NumIn() > 0 && t.In(0) == ctxType
	bad := ""
	switch {
	case rv.IsNil():
		bad = "is a nil func"
	case t.IsVariadic():
		bad = "is variadic"
	case t.NumOut() > 2, t.NumOut() == 2 && t.Out(1) != errorType:
		bad = "must return nothing, a value, an error, or a value and an error"
	}
	if bad != "" {
		return nil, &service.Error{Op: op, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %q: the callback %s %s", name, t, bad)}
	}
	first := 0
	if hasCtx {
		first = 1
	}
	return peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		p, err := s.Recv()
		if err != nil && err != io.EOF {
			return nil, err
		}
		var args []any
		switch x := p.(type) {
		case nil:
		case []any:
			args = x
		default:
			args = []any{x}
		}
		n := t.NumIn() - first
		if len(args) > n {
			return nil, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("the callback takes %d argument(s), got %d", n, len(args))}
		}
		in := make([]reflect.Value, 0, t.NumIn())
		if hasCtx {
			in = append(in, reflect.ValueOf(ctx))
		}
		for i := range n {
			pt := t.In(first + i)
			if i >= len(args) || args[i] == nil {
				in = append(in, reflect.Zero(pt))
				continue
			}
			ptr := reflect.New(pt)
			if err := (&Value{c: c, v: args[i]}).Decode(ptr.Interface()); err != nil {
				return nil, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("callback argument %d: %v", i+1, err)}
			}
			in = append(in, ptr.Elem())
		}
		out := rv.Call(in)
		if len(out) > 0 && t.Out(len(out)-1) == errorType {
			if e := out[len(out)-1]; !e.IsNil() {
				return nil, e.Interface().(error)
			}
			out = out[:len(out)-1]
		}
		if len(out) == 1 {
			return out[0].Interface(), nil
		}
		return nil, nil
	}), nil
}
