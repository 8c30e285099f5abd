package hyper

import (
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// Link is the hyperglyph `link` extension: a safe, argument-less call,
// always made with GET. A client follows a link by fetching its URL, or, when
// Inline is set, by returning Content without a request.
//
// On the wire: attributes url and method (always "GET"), and inline,
// etag, last_modified and headers when set; content nil or the inlined
// value.
type Link struct {
	// URL is the link's target, possibly relative (see ResolveURLs).
	// It is always written, "" included: an empty URL means the URL of
	// the response the link came in.
	URL string
	// Inline says Content is the response a GET of URL would return.
	Inline bool
	// Content is the inlined value; meaningful only when Inline is set.
	Content any
	// ETag, when not "", lets a client make a conditional GET.
	ETag string
	// LastModified, when not zero, lets a client make a conditional GET.
	LastModified time.Time
	// Headers are sent with the GET; nil means the attribute is absent.
	Headers map[string]string
	// Extra holds attributes this package does not know, so that they
	// survive a decode and encode. It must not use the names above.
	Extra map[string]any
}

var linkAttrs = []string{"url", "method", "inline", "etag", "last_modified", "headers"}

// MarshalGlyph returns l as a [wire.Extension] named "link".
func (l Link) MarshalGlyph() (any, error) {
	o := wire.NewOrderedDict("url", l.URL, "method", "GET")
	if l.Inline {
		o.Set("inline", true)
	}
	setString(o, "etag", l.ETag)
	if !l.LastModified.IsZero() {
		o.Set("last_modified", l.LastModified)
	}
	setHeaders(o, "headers", l.Headers)
	return newExt("link", o, l.Extra, linkAttrs, l.Content)
}

// UnmarshalGlyph sets l from a decoded link: a Link, or a [wire.Extension]
// named "link". nil leaves l unchanged.
func (l *Link) UnmarshalGlyph(v any) error { return unmarshal(l, v, "link", linkFromExt) }

func linkFromExt(x wire.Extension) (Link, error) {
	a, err := readAttrs(x)
	if err != nil {
		return Link{}, err
	}
	var l Link
	if l.URL, err = a.string("url"); err != nil {
		return Link{}, err
	}
	method, err := a.string("method")
	if err != nil {
		return Link{}, err
	}
	if method != "" && method != "GET" {
		return Link{}, fmt.Errorf("link attribute \"method\" is %q, expected \"GET\" (links are safe: use a form)", method)
	}
	if l.Inline, err = a.bool("inline"); err != nil {
		return Link{}, err
	}
	if l.ETag, err = a.string("etag"); err != nil {
		return Link{}, err
	}
	if l.LastModified, err = a.time("last_modified"); err != nil {
		return Link{}, err
	}
	if l.Headers, err = a.headers("headers"); err != nil {
		return Link{}, err
	}
	l.Content = x.Content
	l.Extra = a.extra()
	return l, nil
}
