package component

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Provider is one place that serves component interfaces, reached over
// one transport: the seam between a [Router] and a transport. A provider
// for a new transport is a small adapter from that transport's client,
// registered for its URL scheme with [RegisterScheme].
//
// Its methods are safe for concurrent use. Errors are *[service.Error]
// values whose kind says what happened, as the transport reported it; a
// failure to reach the server at all is marked with [Unreachable], which
// is what makes a router mark the provider down and look elsewhere.
type Provider interface {
	// Describe returns the interface named iface as the provider serves
	// it, which the router checks a caller's expectations against before
	// the provider gets any call. A provider whose transport cannot
	// describe interfaces returns nil and no error: callers then bind
	// unchecked, and find mismatches when they call. Describe is also
	// the router's health probe.
	Describe(ctx context.Context, iface string) (*Interface, error)
	// Call calls a method and decodes its result into call.Result (a
	// pointer, or nil to drop the result). ctx's deadline and
	// call.Header travel with the call where the transport carries them.
	Call(ctx context.Context, call *Call) error
	// Capabilities says what the transport carries beyond plain calls.
	Capabilities() Capabilities
	// Close releases the provider's connections.
	Close() error
}

// Streamer is a [Provider] whose transport streams results: Stream calls
// a method whose result streams and yields its items as they arrive (as
// glyph values, which the router converts), an error last.
type Streamer interface {
	Stream(ctx context.Context, call *Call) iter.Seq2[any, error]
}

// Capabilities are what a transport carries beyond calls with values.
// Binding a method that needs one to a provider without it is a
// [service.KindUnsupported] error at bind time.
type Capabilities struct {
	Transport string // its name in errors: "http", "tcp", "nats", ...
	Streams   bool   // iter.Seq arguments and results (a Provider that is a Streamer)
	Callbacks bool   // func arguments the provider calls back
}

// Call is one call as a [Router] hands it to a [Provider].
type Call struct {
	Interface string // "Search"
	Method    string // the wire name: "run_query"
	// Args are the positional arguments; Named the arguments by name
	// (for a method that takes one struct: its fields). Both are the
	// caller's Go values, already checked against the inputs' types.
	Args  []any
	Named map[string]any
	// arg is the struct whose fields Named holds, for InOrder.
	arg reflect.Value
	// Header is the call's metadata: trace context, identity, as
	// [client.WithCallHeader] put it in the caller's context. The
	// providers over package client send it from the context itself.
	Header http.Header
	// Result points to what the result is decoded into; nil drops it.
	Result any
	// ReadOnly says the method is safe (a GET over HTTP).
	ReadOnly bool
}

// InOrder returns, for a call whose arguments are Named, every field of
// the caller's struct in order, those Named leaves out (optional and
// zero) included: the arguments by position for a transport that has no
// names (XML-RPC). It is nil for a call with positional arguments.
func (c *Call) InOrder() []any {
	if !c.arg.IsValid() {
		return nil
	}
	var out []any
	for _, f := range wire.Fields(c.arg.Type()) {
		fv, err := c.arg.FieldByIndexErr(f.Index)
		if err != nil {
			// Behind a nil embedded pointer: not set.
			out = append(out, reflect.Zero(f.Type).Interface())
			continue
		}
		out = append(out, fv.Interface())
	}
	return out
}

// Path returns the method's path under the service root, as package
// service serves it: "Search/run_query". Transports that name methods
// with dots (JSON-RPC, XML-RPC, NATS) use "Search.run_query".
func (c *Call) Path() string { return c.Interface + "/" + c.Method }

// Dialer makes a [Provider] for a URL of the scheme it is registered for.
// It need not connect: a provider may connect on its first Describe.
type Dialer func(ctx context.Context, u *url.URL) (Provider, error)

var schemes struct {
	mu sync.RWMutex // guards m
	m  map[string]Dialer
}

// RegisterScheme makes providers of URLs with the given scheme (such as
// "jsonrpc+http") with d. Registering a scheme twice replaces its dialer.
// The schemes built in are inproc, http, https, ws, wss, tcp, unix,
// jsonrpc+http, jsonrpc+https, xmlrpc+http, xmlrpc+https and nats.
func RegisterScheme(scheme string, d Dialer) {
	schemes.mu.Lock()
	defer schemes.mu.Unlock()
	if schemes.m == nil {
		schemes.m = map[string]Dialer{}
	}
	schemes.m[strings.ToLower(scheme)] = d
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	schemes.mu.RLock()
	defer schemes.mu.RUnlock()
	out := make([]string, 0, len(schemes.m))
	for s := range schemes.m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// DialProvider makes the provider for rawURL with the dialer registered for its
// scheme. An unknown scheme is a [service.KindUnsupported] error that
// lists the known ones.
func DialProvider(ctx context.Context, rawURL string) (Provider, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &service.Error{Op: "component.DialProvider", Kind: service.KindInvalid, Message: fmt.Sprintf("bad provider URL %q: %v", rawURL, err)}
	}
	schemes.mu.RLock()
	d := schemes.m[strings.ToLower(u.Scheme)]
	schemes.mu.RUnlock()
	if d == nil {
		return nil, &service.Error{Op: "component.DialProvider", Kind: service.KindUnsupported,
			Message: fmt.Sprintf("provider URL %q: no transport for scheme %q (known: %s)", rawURL, u.Scheme, strings.Join(Schemes(), ", "))}
	}
	return d(ctx, u)
}

// unreachableError marks a failure to reach a provider.
type unreachableError struct {
	err     error
	notSent bool
}

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// Unreachable marks err as a failure to reach the provider's server (a
// refused or broken connection, not an answer), for a [Provider] to
// return: the router marks the provider down and probes it before it
// gets calls again. notSent says the call provably did not leave (the
// connection was never made), so that it may go to another provider even
// when the method is not retry-safe. The result is a
// [service.KindUnavailable] *[service.Error] that wraps err.
func Unreachable(err error, notSent bool) error {
	msg := err.Error()
	op := ""
	var se *service.Error
	if errors.As(err, &se) {
		op, msg = se.Op, se.Message
	}
	return &service.Error{Op: op, Kind: service.KindUnavailable, Message: msg, Err: &unreachableError{err: err, notSent: notSent}}
}

// IsUnreachable reports whether err says a provider could not be
// reached, and whether the call provably was not sent.
func IsUnreachable(err error) (unreachable, notSent bool) {
	var u *unreachableError
	if errors.As(err, &u) {
		return true, u.notSent
	}
	return false, false
}
