package client

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The envelopes: how a form's arguments become a request.
const (
	envNone  = "none"
	envForm  = "form"
	envBlob  = "blob"
	envQuery = "query"
)

// envelopes lists, per method, the envelopes allowed and (first) the
// default, as the protocol's table says.
var envelopes = map[string][]string{
	http.MethodGet:    {envQuery, envNone},
	http.MethodPost:   {envForm, envNone, envBlob},
	http.MethodPut:    {envBlob, envForm},
	http.MethodDelete: {envNone, envQuery, envBlob, envForm},
	http.MethodPatch:  {envBlob, envForm},
}

// arg is one argument bound to an input.
type arg struct {
	in     hyper.Input
	value  any
	given  bool // by the caller, not a default
	inBody bool // sent in the form body
}

// callPlan is what calling a form needs that depends on the form alone,
// worked out on the first call and kept on the Value.
type callPlan struct {
	types []hyper.Type // the parsed type of each input
	// keys holds the encoding of each input's name, when the names are
	// distinct and encode: a form body of plain values can then be written
	// entry by entry, as the ordered dict it is would encode. Nil if not.
	keys [][]byte
	// url caches the string of the URL the answers come from, which is
	// the same for every call of a form that is not redirected.
	url atomic.Pointer[urlString]
	// request is the form's request without context, body and header,
	// copied for each call (when its URL has no query of arguments).
	request atomic.Pointer[http.Request]
}

// urlString is a URL and its String.
type urlString struct {
	u url.URL
	s string
}

// plan returns f's call plan; f is v's value.
func (v *Value) plan(f hyper.Form) *callPlan {
	if p := v.callPlan.Load(); p != nil {
		return p
	}
	p := &callPlan{types: make([]hyper.Type, len(f.Values)), keys: make([][]byte, len(f.Values))}
	for i, in := range f.Values {
		p.types[i] = in.ParsedType()
		k, err := wire.AppendMarshal(nil, in.Name)
		if err != nil || inputIndex(f.Values, in.Name) != i {
			p.keys = nil
		} else if p.keys != nil {
			p.keys[i] = k
		}
	}
	v.callPlan.CompareAndSwap(nil, p)
	return v.callPlan.Load()
}

// bindArgs binds positional and named arguments to the form's inputs and
// checks them against the inputs' types, in buf when it is large enough.
// It makes no request.
func (v *Value) bindArgs(f hyper.Form, p *callPlan, args []any, buf []arg) ([]arg, error) {
	var named Named
	if n := len(args); n > 0 {
		if nm, ok := args[n-1].(Named); ok {
			named, args = nm, args[:n-1]
		}
	}
	for _, a := range args {
		if _, ok := a.(Named); ok {
			return nil, v.errorf(service.KindInvalid, "client.Named must be the last argument")
		}
	}
	if len(args) > len(f.Values) {
		return nil, v.errorf(service.KindInvalid, "takes %d argument(s), got %d", len(f.Values), len(args))
	}
	var bound []arg
	if cap(buf) >= len(f.Values) {
		bound = buf[:len(f.Values)]
		clear(bound)
	} else {
		bound = make([]arg, len(f.Values))
	}
	for i, a := range args {
		bound[i] = arg{in: f.Values[i], value: a, given: true}
	}
	if len(named) > 0 {
		names := make([]string, 0, len(named))
		for name := range named {
			names = append(names, name)
		}
		slices.Sort(names) // so that errors do not depend on map order
		for _, name := range names {
			a := named[name]
			i := inputIndex(f.Values, name)
			if i < 0 {
				return nil, v.errorf(service.KindInvalid, "unknown argument %q (the form takes %s)", name, inputNames(f.Values))
			}
			if bound[i].given {
				return nil, v.errorf(service.KindInvalid, "argument %q given twice", name)
			}
			bound[i] = arg{in: f.Values[i], value: a, given: true}
		}
	}
	for i := range bound {
		a := &bound[i]
		in := &f.Values[i]
		if !a.given {
			if !in.HasDefault {
				return nil, v.errorf(service.KindInvalid, "missing argument %q", in.Name)
			}
			*a = arg{in: *in, value: in.Default}
			continue
		}
		if s, ok := seqOf(a.value); ok {
			// A streamed argument: its items are converted and checked
			// as they are sent.
			s.name, s.t = in.Name, p.types[i]
			a.value = s
			continue
		}
		val, err := argValue(a.value, p.types[i])
		if err != nil {
			return nil, v.errorf(service.KindInvalid, "argument %q: %v", in.Name, err)
		}
		a.value = val
		if err := checkType(p.types[i], val); err != nil {
			return nil, v.errorf(service.KindInvalid, "argument %q: %v", in.Name, err)
		}
	}
	return bound, nil
}

func inputIndex(ins []hyper.Input, name string) int {
	for i := range ins {
		if ins[i].Name == name {
			return i
		}
	}
	return -1
}

func inputNames(ins []hyper.Input) string {
	if len(ins) == 0 {
		return "no arguments"
	}
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = in.Name
	}
	return strings.Join(names, ", ")
}

// argValue turns what a caller passed into the glyph value to send:
// readers and files become blobs, a *Value its value, and bytes for an
// input of type t blob a blob.
func argValue(a any, t hyper.Type) (any, error) {
	switch x := a.(type) {
	case *Value:
		return x.v, nil
	case *wire.Blob:
		return x, nil
	case *os.File:
		ct := mime.TypeByExtension(filepath.Ext(x.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		return wire.NewBlob(ct, x), nil
	case []byte:
		if t.Name == "blob" {
			return wire.BytesBlob("application/octet-stream", x), nil
		}
		return x, nil
	case io.Reader:
		return wire.NewBlob("application/octet-stream", x), nil
	}
	return a, nil
}

// checkType checks an argument against its input's type. A Go value the
// check does not know (a [wire.Marshaler]) is checked as what it encodes to.
func checkType(t hyper.Type, val any) error {
	err := t.Check(val)
	for range 8 {
		m, ok := val.(wire.Marshaler)
		if err == nil || !ok {
			break
		}
		mv, merr := m.MarshalGlyph()
		if merr != nil {
			return merr
		}
		val = mv
		err = t.Check(val)
	}
	return err
}

// formRequest builds the request that submits f with args.
func (v *Value) formRequest(f hyper.Form, args []any) (*request, error) {
	p := v.plan(f)
	var buf [4]arg // most forms have few inputs
	bound, err := v.bindArgs(f, p, args, buf[:0])
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(f.HTTPMethod())
	if err := v.checkHTTPArgs(method, f, bound); err != nil {
		return nil, err
	}
	env, err := v.formEnvelope(method, f)
	if err != nil {
		return nil, err
	}
	r := &request{op: v.op(method, f.URL), method: method, url: f.URL, header: f.Headers,
		urlCache: &p.url, template: &p.request}
	pl, err := v.placeArgs(env, bound)
	if err != nil {
		return nil, err
	}
	if env == envForm && f.Envelope == "" && f.ContentType == "" {
		if i := loneBlob(bound); i >= 0 {
			// The blob envelope streams the blob to the function as it
			// arrives; in a form body the server reads it whole first
			// (spooling it to disk past 4 MiB).
			pl.blob, pl.inBody = i, 0
		}
	}
	if pl.query.Len() > 0 {
		if err := v.setQuery(r, f, pl.query); err != nil {
			return nil, err
		}
	}
	switch {
	case pl.blob >= 0:
		return r, v.blobBody(r, f, &bound[pl.blob])
	case pl.inBody > 0 || env == envForm:
		if err := v.formBody(r, f, p, bound); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkHTTPArgs refuses what HTTP cannot carry: Go iterators are
// collected into lists (a stream needs a peer connection), and funcs,
// callbacks, are refused.
func (v *Value) checkHTTPArgs(method string, f hyper.Form, bound []arg) error {
	if err := v.collectSeqs(v.op(method, f.URL), bound); err != nil {
		return err
	}
	for i := range bound {
		if isFunc(bound[i].value) {
			return v.errorf(service.KindInvalid, "argument %q is a func: callbacks need a peer connection, and this form is called over HTTP", bound[i].in.Name)
		}
	}
	return nil
}

// formEnvelope returns the form's envelope, or the default of its method,
// after checking that the method may use it.
func (v *Value) formEnvelope(method string, f hyper.Form) (string, error) {
	allowed, ok := envelopes[method]
	if !ok {
		return "", v.errorf(service.KindUnsupported, "the form's method %s is not supported", method)
	}
	env := strings.ToLower(f.Envelope)
	if env == "" {
		env = allowed[0]
	}
	if !slices.Contains(allowed, env) {
		return "", v.errorf(service.KindUnsupported, "a %s form cannot use the %q envelope", method, env)
	}
	return env, nil
}

// placement says where a request's arguments go.
type placement struct {
	query  *wire.OrderedDict // those in the URL's query; nil when none
	inBody int               // how many go in a form body (marked inBody)
	blob   int               // the index of the one sent as the whole body; -1: none
	// (an index, not a pointer, so that the arguments stay on the caller's stack)
}

// placeArgs puts each argument where its input's envelope says, or the
// form's, env.
func (v *Value) placeArgs(env string, bound []arg) (placement, error) {
	pl := placement{blob: -1}
	for i := range bound {
		a := &bound[i]
		e := env
		if a.in.Envelope != "" {
			e = strings.ToLower(a.in.Envelope)
		}
		switch e {
		case envQuery:
			if holdsBlob(a.value) {
				return pl, v.errorf(service.KindInvalid, "argument %q: a blob cannot travel in the URL", a.in.Name)
			}
			if pl.query == nil {
				pl.query = wire.NewOrderedDict()
			}
			pl.query.Set(a.in.Name, a.value)
		case envForm:
			a.inBody = true
			pl.inBody++
		case envBlob:
			if !a.given {
				continue // the server applies its own default
			}
			if pl.blob >= 0 {
				return pl, v.errorf(service.KindInvalid, "the blob envelope sends one argument, got %q and %q", bound[pl.blob].in.Name, a.in.Name)
			}
			pl.blob = i
		case envNone:
			if a.given {
				return pl, v.errorf(service.KindInvalid, "argument %q: the form sends no arguments (envelope none)", a.in.Name)
			}
		default:
			return pl, v.errorf(service.KindUnsupported, "argument %q: unknown envelope %q", a.in.Name, e)
		}
	}
	if pl.blob >= 0 && pl.inBody > 0 {
		return pl, v.errorf(service.KindInvalid, "cannot send %q as the body and other arguments in a form body", bound[pl.blob].in.Name)
	}
	return pl, nil
}

// loneBlob returns the index of the one argument given of a form body
// when it is a blob the blob envelope can carry (its content type is not
// hyperglyph's, which would read as a form) and the other arguments of the
// body are defaults, which the server applies itself; -1 otherwise.
func loneBlob(bound []arg) int {
	lone := -1
	for i := range bound {
		a := &bound[i]
		if !a.inBody || !a.given {
			continue
		}
		b, ok := a.value.(*wire.Blob)
		if lone >= 0 || !ok || b == nil || a.in.Envelope != "" || isGlyph(b.ContentType) {
			return -1
		}
		lone = i
	}
	return lone
}

// setQuery puts the query arguments in r's URL.
func (v *Value) setQuery(r *request, f hyper.Form, query *wire.OrderedDict) error {
	b, err := wire.Marshal(query)
	if err != nil {
		return v.errorf(service.KindInvalid, "cannot encode the arguments: %v", err)
	}
	u, err := url.Parse(f.URL)
	if err != nil {
		return v.errorf(service.KindInvalid, "bad form URL: %v", err)
	}
	u.RawQuery = hyper.EscapeQuery(b)
	r.url = u.String()
	r.urlCache, r.template = nil, nil // it changes with the arguments
	return nil
}

// formBody makes r's body the ordered dict of the arguments marked
// inBody: encoded at once, or, when it holds blobs, streamed as the
// server reads, the blobs in chunks after it.
func (v *Value) formBody(r *request, f hyper.Form, p *callPlan, bound []arg) error {
	if ct := f.ContentType; ct != "" && !isGlyph(ct) {
		return v.errorf(service.KindUnsupported, "the form asks for content type %q: only %s bodies can be sent", ct, MediaType)
	}
	r.contentType = MediaType
	if b, ok := p.plainBody(r.bodyBuf[:0], bound); ok {
		r.bodyBytes = b
		return nil
	}
	body := wire.NewOrderedDict()
	for i := range bound {
		if bound[i].inBody {
			body.Set(bound[i].in.Name, bound[i].value)
		}
	}
	if !holdsBlob(body) {
		b, err := wire.Marshal(body)
		if err != nil {
			return v.errorf(service.KindInvalid, "cannot encode the arguments: %v", err)
		}
		r.bodyBytes = b
		return nil
	}
	r.body = func() (io.ReadCloser, int64, error) {
		pr, pw := io.Pipe()
		go func() {
			err := wire.NewEncoder(pw).Encode(body)
			if err != nil {
				closeBlobs(body)
				err = &service.Error{Op: r.op, Kind: service.KindInvalid, Message: "cannot send the arguments: " + err.Error(), Err: err}
			}
			pw.CloseWithError(err)
		}()
		return pr, -1, nil
	}
	return nil
}

// plainBody encodes the form body of bound, an ordered dict of the
// names and values of the arguments sent in it, entry by entry, when
// every value is a plain scalar (no blobs, nothing whose encoding depends
// on where it is). The bytes are those [wire.Marshal] gives for the ordered
// dict, appended to buf, or to a new slice if buf is too small. ok is
// false when the body must be built as an ordered dict.
func (p *callPlan) plainBody(buf []byte, bound []arg) (b []byte, ok bool) {
	if p.keys == nil {
		return nil, false
	}
	size := 2
	for i := range bound {
		if !bound[i].inBody {
			continue
		}
		size += len(p.keys[i]) + 24
		switch x := bound[i].value.(type) {
		case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		case string:
			size += len(x)
		case []byte:
			size += len(x)
		default:
			return nil, false
		}
	}
	b = buf
	if cap(b) < size {
		b = make([]byte, 0, size)
	}
	b = append(b, 'O')
	for i := range bound {
		if !bound[i].inBody {
			continue
		}
		b = append(b, p.keys[i]...)
		var err error
		if b, err = wire.AppendMarshal(b, bound[i].value); err != nil {
			return nil, false // the ordered dict fails the same way, and says so
		}
	}
	return append(b, ';'), true
}

// blobBody makes a's value the raw request body.
func (v *Value) blobBody(r *request, f hyper.Form, a *arg) error {
	var b *wire.Blob
	switch x := a.value.(type) {
	case *wire.Blob:
		b = x
	case []byte:
		b = wire.BytesBlob("application/octet-stream", x)
	case string:
		b = wire.BytesBlob("text/plain; charset=utf-8", []byte(x))
	default:
		return v.errorf(service.KindInvalid, "argument %q: the blob envelope sends a blob, bytes or a string, got %s", a.in.Name, describe(a.value))
	}
	ct := b.ContentType
	if ct == "" || ct == "application/octet-stream" {
		if f.ContentType != "" {
			ct = f.ContentType
		} else {
			ct = "application/octet-stream"
		}
	}
	r.contentType = ct
	r.disposition = mime.FormatMediaType("form-data", map[string]string{"name": a.in.Name})
	name := a.in.Name
	r.body = func() (io.ReadCloser, int64, error) { return blobReader{b, r.op, name}, -1, nil }
	return nil
}

// blobReader sends a blob as a request body.
type blobReader struct {
	b        *wire.Blob
	op, name string
}

func (r blobReader) Read(p []byte) (int, error) {
	n, err := r.b.Read(p)
	if err != nil && err != io.EOF {
		err = &service.Error{Op: r.op, Kind: service.KindInvalid, Message: "argument " + strconv.Quote(r.name) + ": " + err.Error(), Err: err}
	}
	return n, err
}

// WriteTo sends the blob through its own WriteTo (so that content in
// memory goes in one write, any other in writes of 256 KiB instead of
// net/http's 32 KiB chunks), failing as Read does when the blob cannot be
// read.
func (r blobReader) WriteTo(w io.Writer) (int64, error) {
	tw := &trackedWriter{w: w}
	n, err := r.b.WriteTo(tw)
	if err != nil && tw.err == nil && err != io.EOF {
		err = &service.Error{Op: r.op, Kind: service.KindInvalid, Message: "argument " + strconv.Quote(r.name) + ": " + err.Error(), Err: err}
	}
	return n, err
}

func (r blobReader) Close() error { return r.b.Close() }

// trackedWriter keeps the error of its writer, to tell it from a
// reader's.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.err = err
	}
	return n, err
}

// closeArgs closes the readers and blobs among a call's arguments, as
// net/http closes a request's body whatever happens, so that the caller
// never has to tell a rejected call from a sent one.
func closeArgs(args []any) {
	for _, a := range args {
		if n, ok := a.(Named); ok {
			for _, x := range n {
				closeArg(x)
			}
			continue
		}
		closeArg(a)
	}
}

func closeArg(a any) {
	switch x := a.(type) {
	case *wire.Blob:
		x.Close()
	case io.ReadCloser:
		x.Close()
	}
}

// closeBlobs closes the blobs among a form's arguments.
func closeBlobs(d *wire.OrderedDict) {
	for _, e := range d.Entries() {
		if b, ok := e.Value.(*wire.Blob); ok {
			b.Close()
		}
	}
}
