package hyper

import (
	"fmt"

	"github.com/glyph-ipc/glyph/wire"
)

// Resource is the hyperglyph `resource` extension: an object, with its data
// and the links and forms of its methods in Content. `r.foo` in a client
// means Content["foo"].
//
// On the wire: attributes url, name and profile, each when set; content a
// dict of unicode to values.
type Resource struct {
	// URL is the resource's own URL, possibly relative; "" means absent.
	// When set, it is the base for the relative URLs in Content.
	URL string
	// Name names the resource's type, such as a Go type name.
	Name string
	// Profile identifies the interface the resource implements.
	Profile string
	// Content holds the data and the methods. nil encodes as an empty
	// dict, and an empty dict decodes as nil.
	Content map[string]any
	// Extra holds attributes this package does not know. It must not use
	// the names above.
	Extra map[string]any
}

var resourceAttrs = []string{"url", "name", "profile"}

// MarshalGlyph returns r as a [wire.Extension] named "resource".
func (r Resource) MarshalGlyph() (any, error) {
	o := wire.NewOrderedDict()
	setString(o, "url", r.URL)
	setString(o, "name", r.Name)
	setString(o, "profile", r.Profile)
	content := r.Content
	if content == nil {
		content = map[string]any{}
	}
	return newExt("resource", o, r.Extra, resourceAttrs, content)
}

// UnmarshalGlyph sets r from a decoded resource: a Resource, or a
// [wire.Extension] named "resource". nil leaves r unchanged.
func (r *Resource) UnmarshalGlyph(v any) error {
	return unmarshal(r, v, "resource", resourceFromExt)
}

func resourceFromExt(x wire.Extension) (Resource, error) {
	a, err := readAttrs(x)
	if err != nil {
		return Resource{}, err
	}
	var r Resource
	if r.URL, err = a.string("url"); err != nil {
		return Resource{}, err
	}
	if r.Name, err = a.string("name"); err != nil {
		return Resource{}, err
	}
	if r.Profile, err = a.string("profile"); err != nil {
		return Resource{}, err
	}
	if r.Content, err = dictContent(x); err != nil {
		return Resource{}, err
	}
	r.Extra = a.extra()
	return r, nil
}

// Error is the hyperglyph `error` extension: the body of a 4xx or 5xx
// response, and the Go error a client returns for it.
//
// On the wire: attributes logref and message always; url and code when
// set; content a dict (often empty).
type Error struct {
	// Logref identifies this occurrence, for finding it in the server's
	// logs.
	Logref string
	// Message says what went wrong, for people.
	Message string
	// URL is where more is known about the error; "" means absent.
	URL string
	// Code is an application error code; 0 means absent.
	Code int64
	// Content holds details. nil encodes as an empty dict, and an empty
	// dict decodes as nil.
	Content map[string]any
	// Extra holds attributes this package does not know. It must not use
	// the names above.
	Extra map[string]any
}

var errorAttrs = []string{"logref", "message", "url", "code"}

// Error returns a one-line description: "hyperglyph error LOGREF: MESSAGE",
// with " (code N)" after the logref when Code is set.
func (e Error) Error() string {
	s := "hyperglyph error"
	if e.Logref != "" {
		s += " " + e.Logref
	}
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// MarshalGlyph returns e as a [wire.Extension] named "error".
func (e Error) MarshalGlyph() (any, error) {
	o := wire.NewOrderedDict("logref", e.Logref, "message", e.Message)
	setString(o, "url", e.URL)
	if e.Code != 0 {
		o.Set("code", e.Code)
	}
	content := e.Content
	if content == nil {
		content = map[string]any{}
	}
	return newExt("error", o, e.Extra, errorAttrs, content)
}

// UnmarshalGlyph sets e from a decoded error: an Error, or a [wire.Extension]
// named "error". nil leaves e unchanged.
func (e *Error) UnmarshalGlyph(v any) error { return unmarshal(e, v, "error", errorFromExt) }

// errorFromExt is lenient about logref and message: an error without them
// is still an error, and rejecting it would hide it.
func errorFromExt(x wire.Extension) (Error, error) {
	a, err := readAttrs(x)
	if err != nil {
		return Error{}, err
	}
	var e Error
	if e.Logref, err = a.string("logref"); err != nil {
		return Error{}, err
	}
	if e.Message, err = a.string("message"); err != nil {
		return Error{}, err
	}
	if e.URL, err = a.string("url"); err != nil {
		return Error{}, err
	}
	if e.Code, err = a.int("code"); err != nil {
		return Error{}, err
	}
	if e.Content, err = dictContent(x); err != nil {
		return Error{}, err
	}
	e.Extra = a.extra()
	return e, nil
}

// Collection is the hyperglyph `collection` extension, which the protocol
// reserves for paginated collections: its attributes say where the
// collection is (and, in later versions, how to page), its content is the
// items in order.
//
// On the wire: attribute url when set; content a list, or nil.
type Collection struct {
	// URL is the collection's URL, possibly relative; "" means absent.
	URL string
	// Items are the items in order. nil encodes as nil content; an empty
	// slice as an empty list.
	Items []any
	// Extra holds attributes this package does not know, such as paging
	// links. It must not use the name "url".
	Extra map[string]any
}

var collectionAttrs = []string{"url"}

// MarshalGlyph returns c as a [wire.Extension] named "collection".
func (c Collection) MarshalGlyph() (any, error) {
	o := wire.NewOrderedDict()
	setString(o, "url", c.URL)
	var content any
	if c.Items != nil {
		content = c.Items
	}
	return newExt("collection", o, c.Extra, collectionAttrs, content)
}

// UnmarshalGlyph sets c from a decoded collection: a Collection, or a
// [wire.Extension] named "collection". nil leaves c unchanged.
func (c *Collection) UnmarshalGlyph(v any) error {
	return unmarshal(c, v, "collection", collectionFromExt)
}

func collectionFromExt(x wire.Extension) (Collection, error) {
	a, err := readAttrs(x)
	if err != nil {
		return Collection{}, err
	}
	var c Collection
	if c.URL, err = a.string("url"); err != nil {
		return Collection{}, err
	}
	switch items := x.Content.(type) {
	case nil:
	case []any:
		c.Items = items
	default:
		return Collection{}, fmt.Errorf("collection content is %s, expected a list or nil", typeName(x.Content))
	}
	c.Extra = a.extra()
	return c, nil
}
