package rpcmap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// TimeoutHeader is the request header in which a client sends what is
// left of its deadline, in whole milliseconds.
const TimeoutHeader = "Glyph-Timeout"

// ErrNoMethod is the cause of the error [Server.Serve] returns for a
// method name the service does not offer.
var ErrNoMethod = errors.New("no such method")

// Server calls a service's methods by name for one transport.
type Server struct {
	svc       *service.Service
	transport string // "JSON-RPC", "XML-RPC", for messages
	maxBlob   int64

	mu    sync.Mutex            // held while discovering
	table atomic.Pointer[Table] // nil until discovered
}

// NewServer returns a Server for svc; transport names the transport in
// error messages; blobs in results are read up to maxBlob bytes.
func NewServer(svc *service.Service, transport string, maxBlob int64) *Server {
	return &Server{svc: svc, transport: transport, maxBlob: maxBlob}
}

// Table returns the service's methods, discovered at the first call and
// kept (a service is registered before it is served). A discovery that
// fails is tried again at the next call.
func (s *Server) Table(ctx context.Context) (*Table, error) {
	if t := s.table.Load(); t != nil {
		return t, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.table.Load(); t != nil {
		return t, nil
	}
	t, err := Discover(ctx, s.svc)
	if err != nil {
		return nil, err
	}
	s.table.Store(t)
	return t, nil
}

// Call is one call of a method by name.
type Call struct {
	Method     string
	Positional []any          // plain values, converted in place
	Named      map[string]any // plain values, converted in place
	Header     map[string][]string
}

// Serve calls the method and returns its result as a plain value (see
// [Plain]): nil for no content, the URL for a redirect or a created
// resource. Every error is a *[service.Error]: [service.KindNotFound]
// for a method the table lacks, [service.KindInvalid] for an argument
// that does not convert, [service.KindUnsupported] for a method that
// streams its result or takes a callback (which a request-response
// transport cannot carry), and what the service answered.
func (s *Server) Serve(ctx context.Context, c *Call) (any, error) {
	t, err := s.Table(ctx)
	if err != nil {
		return nil, err
	}
	m := t.Lookup(c.Method)
	if m == nil {
		return nil, &service.Error{Kind: service.KindNotFound, Message: fmt.Sprintf("no method %q", short(c.Method)), Err: ErrNoMethod}
	}
	req := &service.Request{Method: m.HTTPMethod, Path: m.Path, Header: c.Header, Callback: s.noCallbacks}
	req.Sizes, _ = ctx.Value(sizesKey{}).(*intercept.Sizes)
	if req.Positional, err = s.positional(m, c.Positional); err != nil {
		return nil, err
	}
	if req.Args, err = s.named(m, c.Named); err != nil {
		return nil, err
	}
	res, err := s.svc.Serve(ctx, req)
	if err != nil {
		return nil, err
	}
	switch res.Status {
	case service.StatusNoContent:
		return nil, nil
	case service.StatusSeeOther, service.StatusCreated:
		return res.Location, nil
	}
	if _, ok := res.Value.(service.Stream); ok {
		return nil, &service.Error{Op: m.Name, Kind: service.KindUnsupported,
			Message: "the result is a stream, which " + s.transport + " cannot carry"}
	}
	v, err := Plain(res.Value, s.maxBlob)
	if err != nil {
		if e, ok := err.(*service.Error); ok && e.Op == "" {
			e.Op = m.Name
		}
		return nil, err
	}
	return v, nil
}

func (s *Server) noCallbacks(any) (service.CallbackFunc, error) {
	return nil, &service.Error{Kind: service.KindUnsupported, Message: "callbacks cannot travel over " + s.transport}
}

func (s *Server) positional(m *Method, args []any) ([]any, error) {
	for i, a := range args {
		c, err := m.ArgAt(i, a)
		if err != nil {
			return nil, err
		}
		args[i] = c
	}
	return args, nil
}

func (s *Server) named(m *Method, args map[string]any) (*wire.OrderedDict, error) {
	if args == nil {
		return nil, nil
	}
	out := wire.NewOrderedDict()
	for _, in := range m.Inputs {
		a, ok := args[in.Name]
		if !ok {
			continue
		}
		c, err := m.ArgNamed(in.Name, a)
		if err != nil {
			return nil, err
		}
		out.Set(in.Name, c)
	}
	if out.Len() < len(args) {
		var unknown []string
		for k := range args {
			if m.Input(k) < 0 {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			out.Set(k, Generic(args[k]))
		}
	}
	return out, nil
}

// ArgAt converts the plain argument v at position i by the type of the
// input it binds to (see [Arg]); one beyond the inputs as for object. The
// error is a [service.KindInvalid] *service.Error naming the input.
func (m *Method) ArgAt(i int, v any) (any, error) {
	if i >= len(m.Types) {
		return Generic(v), nil
	}
	c, err := Arg(v, m.Types[i])
	if err != nil {
		return nil, m.argError(m.Inputs[i].Name, err)
	}
	return c, nil
}

// ArgNamed converts the plain argument v named name as [Method.ArgAt]
// does; one no input is called as for object.
func (m *Method) ArgNamed(name string, v any) (any, error) {
	i := m.Input(name)
	if i < 0 {
		return Generic(v), nil
	}
	c, err := Arg(v, m.Types[i])
	if err != nil {
		return nil, m.argError(name, err)
	}
	return c, nil
}

func (m *Method) argError(name string, err error) error {
	return &service.Error{Op: m.Name, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %q: %v", name, err), Err: err}
}

// Deadline returns ctx with the deadline the request's TimeoutHeader
// asks for, if any. A header that is not a number of milliseconds is a
// [service.KindInvalid] error.
func Deadline(ctx context.Context, header map[string][]string) (context.Context, context.CancelFunc, error) {
	v := header[TimeoutHeader]
	if len(v) == 0 {
		return ctx, func() {}, nil
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || ms < 0 || ms > int64(365*24*time.Hour/time.Millisecond) {
		return ctx, func() {}, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("%s: %q is not a number of milliseconds", TimeoutHeader, short(v[0]))}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
	return ctx, cancel, nil
}

// TimeoutValue returns the TimeoutHeader value for ctx's deadline, or ""
// without one. What is left is rounded up to whole milliseconds; a
// deadline already past is 0.
func TimeoutValue(ctx context.Context) string {
	d, ok := ctx.Deadline()
	if !ok {
		return ""
	}
	left := time.Until(d)
	if left <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((left+time.Millisecond-1)/time.Millisecond), 10)
}

// LogFailure logs a failed call of method over transport on log (or
// slog.Default when nil) as every transport logs them (package faillog),
// with the logref the caller got, if any.
func LogFailure(ctx context.Context, log *slog.Logger, transport, method string, err error) {
	faillog.Log(ctx, log, "glyph: call failed", faillog.Error(err),
		slog.String("transport", transport), slog.String("method", method))
}
