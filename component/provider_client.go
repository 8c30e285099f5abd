package component

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

func init() {
	for _, s := range []string{"http", "https", "ws", "wss", "tcp", "unix"} {
		RegisterScheme(s, dialClient)
	}
}

func dialClient(_ context.Context, u *url.URL) (Provider, error) {
	return NewClientProvider(client.New(), u.String()), nil
}

// clientProvider is a Provider over package client: hyperglyph over HTTP,
// or the peer protocol over WebSocket, TCP or Unix sockets.
type clientProvider struct {
	c    *client.Client
	url  string // the service's root: its index
	caps Capabilities

	mu    sync.Mutex                          // guards forms
	forms map[string]map[string]*client.Value // interface → method → its link or form
}

// NewClientProvider returns a [Provider] for the service whose index is at
// rawURL, reached with c: an http(s) URL, or a peer URL (ws, wss, tcp,
// unix) as [client.Client.Get] takes them. It finds an interface by
// following the index's link named after it, and calls the methods
// through the links and forms of the interface's resource, so that the
// client checks every argument against its input's type before
// sending. Over HTTP a streamed result arrives as one list and an
// iter.Seq argument is sent as one; callbacks need a peer transport.
// Closing the provider closes c.
func NewClientProvider(c *client.Client, rawURL string) Provider {
	scheme, _, _ := strings.Cut(rawURL, ":")
	scheme = strings.ToLower(scheme)
	peer := scheme != "http" && scheme != "https"
	return &clientProvider{c: c, url: rawURL, forms: map[string]map[string]*client.Value{},
		caps: Capabilities{Transport: scheme, Streams: true, Callbacks: peer}}
}

func (p *clientProvider) Capabilities() Capabilities { return p.caps }

func (p *clientProvider) Close() error { return p.c.Close() }

// Describe implements [Provider]: it reads the index, follows the link
// named iface, and reads the interface from the resource it leads to.
func (p *clientProvider) Describe(ctx context.Context, iface string) (*Interface, error) {
	idx, err := p.c.Get(ctx, p.url)
	if err != nil {
		return nil, p.transportError(err)
	}
	link, err := idx.Get(iface)
	if err != nil {
		return nil, &service.Error{Op: iface, Kind: service.KindNotFound,
			Message: fmt.Sprintf("the provider at %s serves no interface %s (its index has %s)", p.url, iface, strings.Join(idx.Names(), ", "))}
	}
	res, err := link.Call(ctx)
	if err != nil {
		return nil, p.transportError(err)
	}
	r, ok := res.Any().(hyper.Resource)
	if !ok {
		return nil, &service.Error{Op: iface, Kind: service.KindInvalid, Message: fmt.Sprintf("the provider at %s answers %s with no resource", p.url, iface)}
	}
	in, err := DescribeResource(r)
	if err != nil {
		return nil, &service.Error{Op: iface, Kind: service.KindInvalid, Message: err.Error()}
	}
	forms := map[string]*client.Value{}
	for name := range in.Methods {
		if v, err := res.Get(name); err == nil {
			forms[name] = v
		}
	}
	p.mu.Lock()
	p.forms[iface] = forms
	p.mu.Unlock()
	return in, nil
}

// form returns the link or form of a method, describing the interface
// first when it has not been.
func (p *clientProvider) form(ctx context.Context, call *Call) (*client.Value, error) {
	p.mu.Lock()
	f, described := p.forms[call.Interface]
	p.mu.Unlock()
	if !described {
		if _, err := p.Describe(ctx, call.Interface); err != nil {
			return nil, err
		}
		p.mu.Lock()
		f = p.forms[call.Interface]
		p.mu.Unlock()
	}
	v := f[call.Method]
	if v == nil {
		return nil, &service.Error{Op: call.Interface + "." + call.Method, Kind: service.KindNotFound,
			Message: fmt.Sprintf("the provider at %s has no method %q", p.url, call.Method)}
	}
	return v, nil
}

func clientArgs(call *Call) []any {
	if call.Named == nil {
		return call.Args
	}
	return append(append(make([]any, 0, len(call.Args)+1), call.Args...), client.Named(call.Named))
}

// Call implements [Provider].
func (p *clientProvider) Call(ctx context.Context, call *Call) error {
	f, err := p.form(ctx, call)
	if err != nil {
		return err
	}
	v, err := f.Call(ctx, clientArgs(call)...)
	if err != nil {
		return p.transportError(err)
	}
	defer v.Close()
	if call.Result == nil {
		return nil
	}
	if err := v.Decode(call.Result); err != nil {
		return &service.Error{Op: call.Interface + "." + call.Method, Kind: service.KindInternal,
			Message: fmt.Sprintf("cannot decode the result: %v", err), Err: err}
	}
	return nil
}

// Stream implements [Streamer].
func (p *clientProvider) Stream(ctx context.Context, call *Call) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		f, err := p.form(ctx, call)
		if err != nil {
			yield(nil, err)
			return
		}
		for v, err := range f.Stream(ctx, clientArgs(call)...) {
			if err != nil {
				yield(nil, p.transportError(err))
				return
			}
			if !yield(v.Any(), nil) {
				return
			}
		}
	}
}

// transportError marks a failure to reach the server as [Unreachable]:
// an unavailable error that no response (HTTP) or error reply (peers)
// carried. A connection that was
// never made proves the call was not sent.
func (p *clientProvider) transportError(err error) error {
	var remote *peer.RemoteError
	if service.KindOf(err) != service.KindUnavailable || client.StatusCode(err) != 0 || errors.As(err, &remote) {
		return err // an answer: the server was reached
	}
	return Unreachable(err, dialFailed(err))
}

// dialFailed reports whether err comes from a connection that could not
// be made.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
