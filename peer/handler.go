package peer

import (
	"context"
	"maps"

	"github.com/glyph-ipc/glyph/intercept"
)

// Handler serves calls that arrive on a connection.
//
// ServePeer runs on its own goroutine with a context that carries the
// call's headers (see Header), its deadline (extension "deadline"), and
// that is canceled when the caller cancels (extension "cancel") or the
// connection ends. Its results are the reply:
//   - without Send calls, (v, nil) is the one reply, v its payload;
//   - after Send calls, nil ends the stream and a non-nil v is sent as
//     its last item;
//   - a non-nil error is an error reply, which ends the call (after the
//     items already sent): a *service.Error chooses its kind, context
//     errors become canceled or deadline_exceeded, other errors are
//     internal errors with their text.
//
// A panic is recovered and answered as an internal error; the
// connection stays up. For a notification (ID 0) the results are
// dropped.
type Handler interface {
	ServePeer(ctx context.Context, s *ServerStream) (any, error)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, s *ServerStream) (any, error)

// ServePeer calls f.
func (f HandlerFunc) ServePeer(ctx context.Context, s *ServerStream) (any, error) {
	return f(ctx, s)
}

type headerKey struct{}

// Header returns the headers in ctx: those of the incoming call that a
// handler's context carries, plus what [WithHeader] added. Calls made with
// ctx send them as their ext, so trace and identity headers travel on
// through every call a handler makes. The map must not be modified.
func Header(ctx context.Context) map[string]string {
	h, _ := ctx.Value(headerKey{}).(map[string]string)
	return h
}

// WithHeader returns a context whose Header is ctx's merged with h (h's
// values win).
func WithHeader(ctx context.Context, h map[string]string) context.Context {
	if len(h) == 0 {
		return ctx
	}
	merged := maps.Clone(Header(ctx))
	if merged == nil {
		merged = make(map[string]string, len(h))
	}
	maps.Copy(merged, h)
	return context.WithValue(ctx, headerKey{}, merged)
}

// stringEntries returns the string-valued entries of an ext map.
func stringEntries(ext any) map[string]string {
	var out map[string]string
	add := func(k, v any) {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if ok1 && ok2 {
			if out == nil {
				out = map[string]string{}
			}
			out[ks] = vs
		}
	}
	switch m := ext.(type) {
	case map[string]any:
		for k, v := range m {
			add(k, v)
		}
	case map[any]any:
		for k, v := range m {
			add(k, v)
		}
	case map[string]string:
		return maps.Clone(m)
	}
	return out
}

// CallOption configures one call, notification or stream.
type CallOption interface{ applyCall(*callOptions) }

type callOptions struct {
	header map[string]string
	safe   bool
	sizes  *intercept.Sizes
}

type callOptionFunc func(*callOptions)

func (f callOptionFunc) applyCall(o *callOptions) { f(o) }

// WithCallHeader adds headers to the call's ext, over those of
// Header(ctx).
func WithCallHeader(h map[string]string) CallOption {
	return callOptionFunc(func(o *callOptions) {
		if o.header == nil {
			o.header = map[string]string{}
		}
		maps.Copy(o.header, h)
	})
}

// Safe marks the call as one that only reads and changes nothing, so
// that the remote (or a proxy) may retry or route it freely (extension
// "safe"; not sent to baseline peers).
func Safe() CallOption {
	return callOptionFunc(func(o *callOptions) { o.safe = true })
}

// WithSizes counts the call's bytes in s, as the calling side of
// [intercept.Call.Sizes] does: Out the data of the frames of its
// arguments as they are queued to be written, In those of its replies as
// they are read (the encoded envelopes, without the frames' length
// prefixes; a reqend, cancel or credit carries no data and is not
// counted), so that they are the serving side's Sizes swapped. The call
// adds to s and leaves ending it ([intercept.Sizes.End]) to the caller;
// a nil s counts nothing. [Peer] counts the calls its interceptors see
// this way by itself.
func WithSizes(s *intercept.Sizes) CallOption { return sizesOption{s} }

// sizesOption is WithSizes's option: a pointer in an interface, which
// takes no allocation.
type sizesOption struct{ s *intercept.Sizes }

func (so sizesOption) applyCall(o *callOptions) { o.sizes = so.s }

func callOpts(opts []CallOption) callOptions {
	if len(opts) == 0 {
		return callOptions{} // without the allocation the loop needs
	}
	o := new(callOptions)
	for _, opt := range opts {
		opt.applyCall(o)
	}
	return *o
}

// ext returns the request's ext: Header(ctx) merged with the call's
// headers, or nil when there are none.
func (o *callOptions) ext(ctx context.Context) any {
	h := Header(ctx)
	if len(h) == 0 && len(o.header) == 0 {
		return nil
	}
	m := make(map[string]any, len(h)+len(o.header))
	for k, v := range h {
		m[k] = v
	}
	for k, v := range o.header {
		m[k] = v
	}
	return m
}
