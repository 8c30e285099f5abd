package hyper

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/glyph-ipc/glyph/wire"
)

// Resolve resolves the URL reference ref against base as RFC 3986 section
// 5 says (with net/url's ResolveReference). An empty ref is base itself,
// unchanged; so is any ref when base is empty, since there is nothing to
// resolve it against. It fails only when base or ref is not a URL.
func Resolve(base, ref string) (string, error) {
	if ref == "" {
		return base, nil
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("hyper: bad URL reference: %w", err)
	}
	if base == "" {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("hyper: bad base URL: %w", err)
	}
	return b.ResolveReference(r).String(), nil
}

// maxResolveDepth bounds how deep ResolveURLs walks. Decoded values are
// bounded by wire's limits far below it; values built in Go may contain
// themselves (a map holding itself), and must fail rather than recurse
// forever.
const maxResolveDepth = 10000

var errTooDeep = errors.New("hyper: value nested too deeply (does it contain itself?)")

// ResolveURLs returns v with the URL of every Link, Form, Resource, Error
// and Collection in it made absolute, following the hyperglyph rules:
//
//   - A relative URL resolves against the current base, which starts as
//     base (the URL the response came from, after redirects).
//   - An extension with a URL makes that resolved URL the base for its
//     content: a resource's data and methods, a link's inlined value, an
//     error's details, a collection's items.
//   - An absent or empty URL means the current base. A Link's or Form's
//     empty URL is set to it, so that a client can follow or submit it;
//     the other types keep "".
//   - Attributes resolve against the outer base, not the extension's own
//     URL: a form's inputs (their defaults) and every Extra attribute.
//
// ResolveURLs walks lists, the values of dicts and ordered dicts, the
// content and attributes of unknown extensions, and pointers to this
// package's types. It leaves dict keys, set items and blobs as they are
// (a blob's url is a download location the client reads as is).
//
// v is not modified: the containers on the way to a changed URL are
// copied, everything else is shared with v. The error names the URL that
// does not parse.
func ResolveURLs(v any, base string) (any, error) {
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("hyper: bad base URL: %w", err)
	}
	out, _, err := resolveValue(v, base, 0)
	return out, err
}

// resolveValue returns v resolved against base and whether it differs
// from v (then it is a copy).
func resolveValue(v any, base string, depth int) (any, bool, error) {
	if depth > maxResolveDepth {
		return nil, false, errTooDeep
	}
	depth++
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte:
		return v, false, nil
	case Link:
		return resolveLink(x, base, depth)
	case Form:
		return resolveForm(x, base, depth)
	case Input:
		in, changed, err := resolveInput(x, base, depth)
		return in, changed, err
	case Resource:
		return resolveResource(x, base, depth)
	case Error:
		return resolveError(x, base, depth)
	case Collection:
		return resolveCollection(x, base, depth)
	case *Link:
		return resolvePtr(x, base, depth)
	case *Form:
		return resolvePtr(x, base, depth)
	case *Input:
		return resolvePtr(x, base, depth)
	case *Resource:
		return resolvePtr(x, base, depth)
	case *Error:
		return resolvePtr(x, base, depth)
	case *Collection:
		return resolvePtr(x, base, depth)
	case []any:
		return resolveList(x, base, depth)
	case map[string]any:
		return resolveMap(x, base, depth)
	case map[any]any:
		return resolveMap(x, base, depth)
	case wire.Dict:
		entries, changed, err := resolveEntries(x.Entries, base, depth)
		return wire.Dict{Entries: entries}, changed, err
	case *wire.Dict:
		if x == nil {
			return v, false, nil
		}
		entries, changed, err := resolveEntries(x.Entries, base, depth)
		if !changed || err != nil {
			return v, false, err
		}
		return &wire.Dict{Entries: entries}, true, nil
	case *wire.OrderedDict:
		return resolveOrdered(x, base, depth)
	case wire.Extension:
		return resolveExtension(x, base, depth)
	}
	return v, false, nil
}

// resolvePtr resolves what p points to, returning a new pointer if that
// changed.
func resolvePtr[T any](p *T, base string, depth int) (any, bool, error) {
	if p == nil {
		return p, false, nil
	}
	v, changed, err := resolveValue(*p, base, depth)
	if err != nil || !changed {
		return p, false, err
	}
	nv := v.(T)
	return &nv, true, nil
}

// resolveURL resolves an extension's url attribute. It returns the
// resolved URL (the base for the content) and whether it differs from u.
func resolveURL(ext, u, base string) (string, bool, error) {
	abs, err := Resolve(base, u)
	if err != nil {
		return "", false, fmt.Errorf("hyper: %s url %q: %w", ext, u, errors.Unwrap(err))
	}
	return abs, abs != u, nil
}

func resolveLink(l Link, base string, depth int) (any, bool, error) {
	abs, changed, err := resolveURL("link", l.URL, base)
	if err != nil {
		return nil, false, err
	}
	content, cChanged, err := resolveValue(l.Content, abs, depth)
	if err != nil {
		return nil, false, err
	}
	extra, eChanged, err := resolveMapOf(l.Extra, base, depth)
	if err != nil {
		return nil, false, err
	}
	l.URL, l.Content, l.Extra = abs, content, extra
	return l, changed || cChanged || eChanged, nil
}

func resolveForm(f Form, base string, depth int) (any, bool, error) {
	abs, changed, err := resolveURL("form", f.URL, base)
	if err != nil {
		return nil, false, err
	}
	var values []Input
	for i, in := range f.Values {
		r, inChanged, err := resolveInput(in, base, depth)
		if err != nil {
			return nil, false, err
		}
		if inChanged && values == nil {
			values = append(make([]Input, 0, len(f.Values)), f.Values[:i]...)
		}
		if values != nil {
			values = append(values, r)
		}
	}
	if values != nil {
		f.Values, changed = values, true
	}
	extra, eChanged, err := resolveMapOf(f.Extra, base, depth)
	if err != nil {
		return nil, false, err
	}
	f.URL, f.Extra = abs, extra
	return f, changed || eChanged, nil
}

func resolveInput(in Input, base string, depth int) (Input, bool, error) {
	def, dChanged, err := resolveValue(in.Default, base, depth)
	if err != nil {
		return in, false, err
	}
	extra, eChanged, err := resolveMapOf(in.Extra, base, depth)
	if err != nil {
		return in, false, err
	}
	in.Default, in.Extra = def, extra
	return in, dChanged || eChanged, nil
}

func resolveResource(r Resource, base string, depth int) (any, bool, error) {
	inner, changed, err := resolveOptionalURL("resource", &r.URL, base)
	if err != nil {
		return nil, false, err
	}
	content, cChanged, err := resolveMapOf(r.Content, inner, depth)
	if err != nil {
		return nil, false, err
	}
	extra, eChanged, err := resolveMapOf(r.Extra, base, depth)
	if err != nil {
		return nil, false, err
	}
	r.Content, r.Extra = content, extra
	return r, changed || cChanged || eChanged, nil
}

func resolveError(e Error, base string, depth int) (any, bool, error) {
	inner, changed, err := resolveOptionalURL("error", &e.URL, base)
	if err != nil {
		return nil, false, err
	}
	content, cChanged, err := resolveMapOf(e.Content, inner, depth)
	if err != nil {
		return nil, false, err
	}
	extra, eChanged, err := resolveMapOf(e.Extra, base, depth)
	if err != nil {
		return nil, false, err
	}
	e.Content, e.Extra = content, extra
	return e, changed || cChanged || eChanged, nil
}

func resolveCollection(c Collection, base string, depth int) (any, bool, error) {
	inner, changed, err := resolveOptionalURL("collection", &c.URL, base)
	if err != nil {
		return nil, false, err
	}
	var iChanged bool
	if c.Items != nil {
		items, ch, err := resolveList(c.Items, inner, depth)
		if err != nil {
			return nil, false, err
		}
		c.Items, iChanged = items.([]any), ch
	}
	extra, eChanged, err := resolveMapOf(c.Extra, base, depth)
	if err != nil {
		return nil, false, err
	}
	c.Extra = extra
	return c, changed || iChanged || eChanged, nil
}

// resolveOptionalURL resolves *u in place unless it is empty (absent), and
// returns the base for the extension's content.
func resolveOptionalURL(ext string, u *string, base string) (string, bool, error) {
	if *u == "" {
		return base, false, nil
	}
	abs, changed, err := resolveURL(ext, *u, base)
	if err != nil {
		return "", false, err
	}
	*u = abs
	return abs, changed, nil
}

func resolveList(l []any, base string, depth int) (any, bool, error) {
	var out []any
	for i, item := range l {
		r, changed, err := resolveValue(item, base, depth)
		if err != nil {
			return nil, false, err
		}
		if changed && out == nil {
			out = append(make([]any, 0, len(l)), l[:i]...)
		}
		if out != nil {
			out = append(out, r)
		}
	}
	if out == nil {
		return l, false, nil
	}
	return out, true, nil
}

func resolveMap[K comparable](m map[K]any, base string, depth int) (any, bool, error) {
	out, changed, err := resolveMapOf(m, base, depth)
	return out, changed, err
}

// resolveMapOf resolves the values of m, copying m if any changed.
func resolveMapOf[K comparable](m map[K]any, base string, depth int) (map[K]any, bool, error) {
	var out map[K]any
	for k, v := range m {
		r, changed, err := resolveValue(v, base, depth)
		if err != nil {
			return nil, false, err
		}
		if changed {
			if out == nil {
				out = make(map[K]any, len(m))
			}
			out[k] = r
		}
	}
	if out == nil {
		return m, false, nil
	}
	for k, v := range m {
		if _, done := out[k]; !done {
			out[k] = v
		}
	}
	return out, true, nil
}

func resolveEntries(entries []wire.Entry, base string, depth int) ([]wire.Entry, bool, error) {
	var out []wire.Entry
	for i, e := range entries {
		r, changed, err := resolveValue(e.Value, base, depth)
		if err != nil {
			return nil, false, err
		}
		if changed && out == nil {
			out = append(make([]wire.Entry, 0, len(entries)), entries[:i]...)
		}
		if out != nil {
			out = append(out, wire.Entry{Key: e.Key, Value: r})
		}
	}
	if out == nil {
		return entries, false, nil
	}
	return out, true, nil
}

func resolveOrdered(o *wire.OrderedDict, base string, depth int) (any, bool, error) {
	if o == nil {
		return o, false, nil
	}
	entries, changed, err := resolveEntries(o.Entries(), base, depth)
	if err != nil || !changed {
		return o, false, err
	}
	return orderedOf(entries), true, nil
}

func orderedOf(entries []wire.Entry) *wire.OrderedDict {
	out := wire.NewOrderedDict()
	for _, e := range entries {
		out.Set(e.Key, e.Value)
	}
	return out
}

// resolveExtension walks an unknown extension: its content and attributes
// against the current base. Its url attribute, if any, is left alone: this
// package does not know what it means.
func resolveExtension(x wire.Extension, base string, depth int) (any, bool, error) {
	content, cChanged, err := resolveValue(x.Content, base, depth)
	if err != nil {
		return nil, false, err
	}
	entries, aChanged, err := resolveEntries(x.Attrs.Entries(), base, depth)
	if err != nil {
		return nil, false, err
	}
	if aChanged {
		x.Attrs = orderedOf(entries)
	}
	x.Content = content
	return x, cChanged || aChanged, nil
}
