package hyper

import (
	"fmt"

	"github.com/glyph-ipc/glyph/wire"
)

// Form is the hyperglyph `form` extension: a call with arguments. A client
// binds positional and named arguments to Values in order, fills omitted
// ones from their defaults, and sends them to URL with Method in the form's
// envelope.
//
// On the wire: attributes url, method and values always; headers,
// envelope and content_type when set; content nil.
type Form struct {
	// URL is where the form is sent, possibly relative (see ResolveURLs).
	// It is always written, "" included (the Python reference client
	// needs it).
	URL string
	// Method is the HTTP method. "" encodes as "POST"; a decoded form
	// always has it set ("POST" when the attribute is absent). See
	// HTTPMethod.
	Method string
	// Values are the form's inputs in order. They are always written as
	// input extensions, as the spec's example does; decoding also accepts
	// plain unicode names.
	Values []Input
	// Headers are sent with the request; nil means absent.
	Headers map[string]string
	// Envelope says how the arguments become a request ("none", "form",
	// "blob", "query"); "" means absent, which means the method's default.
	// The Python reference client crashes on forms that carry an envelope,
	// so leave it empty unless it differs from the default.
	Envelope string
	// ContentType is the request's content type; "" means absent.
	ContentType string
	// Extra holds attributes this package does not know. It must not use
	// the names above.
	Extra map[string]any
}

var formAttrs = []string{"url", "method", "values", "headers", "envelope", "content_type"}

// HTTPMethod returns Method, or "POST" when Method is empty.
func (f Form) HTTPMethod() string {
	if f.Method == "" {
		return "POST"
	}
	return f.Method
}

// MarshalGlyph returns f as a [wire.Extension] named "form".
func (f Form) MarshalGlyph() (any, error) {
	values := make([]any, len(f.Values))
	for i, in := range f.Values {
		x, err := in.MarshalGlyph()
		if err != nil {
			return nil, err
		}
		values[i] = x
	}
	o := wire.NewOrderedDict("url", f.URL, "method", f.HTTPMethod(), "values", values)
	setHeaders(o, "headers", f.Headers)
	setString(o, "envelope", f.Envelope)
	setString(o, "content_type", f.ContentType)
	return newExt("form", o, f.Extra, formAttrs, nil)
}

// UnmarshalGlyph sets f from a decoded form: a Form, or a [wire.Extension]
// named "form". nil leaves f unchanged.
func (f *Form) UnmarshalGlyph(v any) error { return unmarshal(f, v, "form", formFromExt) }

func formFromExt(x wire.Extension) (Form, error) {
	if err := noContent(x); err != nil {
		return Form{}, err
	}
	a, err := readAttrs(x)
	if err != nil {
		return Form{}, err
	}
	var f Form
	if f.URL, err = a.string("url"); err != nil {
		return Form{}, err
	}
	if f.Method, err = a.string("method"); err != nil {
		return Form{}, err
	}
	if f.Method == "" {
		f.Method = "POST"
	}
	if v, ok := a.take("values"); ok {
		list, ok := v.([]any)
		if !ok {
			return Form{}, a.wrongType("values", v, "a list")
		}
		if len(list) > 0 {
			f.Values = make([]Input, len(list))
		}
		for i, item := range list {
			if f.Values[i], err = inputFromValue(item, i); err != nil {
				return Form{}, err
			}
		}
	}
	if f.Headers, err = a.headers("headers"); err != nil {
		return Form{}, err
	}
	if f.Envelope, err = a.string("envelope"); err != nil {
		return Form{}, err
	}
	if f.ContentType, err = a.string("content_type"); err != nil {
		return Form{}, err
	}
	f.Extra = a.extra()
	return f, nil
}

// inputFromValue reads item i of a form's values: a name or an input.
func inputFromValue(v any, i int) (Input, error) {
	switch v := v.(type) {
	case string:
		return Input{Name: v}, nil
	case Input:
		return v, nil
	case wire.Extension:
		if v.Name == "input" {
			in, err := inputFromExt(v)
			if err != nil {
				return Input{}, fmt.Errorf("form attribute \"values\" item %d: %w", i, err)
			}
			return in, nil
		}
	}
	return Input{}, fmt.Errorf("form attribute \"values\" item %d is %s, expected unicode or an input extension", i, typeName(v))
}

// Input is the hyperglyph `input` extension: one parameter of a form.
//
// On the wire: attribute name always; value, type and envelope when set;
// content nil.
type Input struct {
	// Name is the parameter's name. Decoding requires the attribute.
	Name string
	// Default is the value used when the caller omits the argument (the
	// attribute "value"). It is written when HasDefault is set or Default
	// is not nil.
	Default any
	// HasDefault says the input has a default, which may be nil. A
	// decoded input has it set exactly when the attribute is present.
	HasDefault bool
	// Type is the expected type in the postfix grammar of ParseType; ""
	// means absent, which means "object" (anything). See ParsedType.
	Type string
	// Envelope is how this argument is sent, when it differs from the
	// form's; "" means absent.
	Envelope string
	// Extra holds attributes this package does not know. It must not use
	// the names above.
	Extra map[string]any
}

var inputAttrs = []string{"name", "value", "type", "envelope"}

// ParsedType returns the parsed Type, or object when Type is empty or does
// not parse: the spec says a missing or unknown type means object.
func (in Input) ParsedType() Type {
	t, err := ParseType(in.Type)
	if err != nil {
		return Type{Name: "object"}
	}
	return t
}

// MarshalGlyph returns in as a [wire.Extension] named "input".
func (in Input) MarshalGlyph() (any, error) {
	o := wire.NewOrderedDict("name", in.Name)
	if in.HasDefault || in.Default != nil {
		o.Set("value", in.Default)
	}
	setString(o, "type", in.Type)
	setString(o, "envelope", in.Envelope)
	return newExt("input", o, in.Extra, inputAttrs, nil)
}

// UnmarshalGlyph sets in from a decoded input: an Input, a [wire.Extension]
// named "input", or a plain unicode name (as form values may be). nil
// leaves in unchanged.
func (in *Input) UnmarshalGlyph(v any) error {
	if s, ok := v.(string); ok {
		*in = Input{Name: s}
		return nil
	}
	return unmarshal(in, v, "input", inputFromExt)
}

func inputFromExt(x wire.Extension) (Input, error) {
	if err := noContent(x); err != nil {
		return Input{}, err
	}
	a, err := readAttrs(x)
	if err != nil {
		return Input{}, err
	}
	var in Input
	v, ok := a.m["name"]
	if !ok {
		return Input{}, fmt.Errorf("input has no \"name\" attribute")
	}
	if in.Name, ok = v.(string); !ok {
		return Input{}, a.wrongType("name", v, "unicode")
	}
	delete(a.m, "name")
	// value is the one attribute where nil is meaningful: a nil default.
	if in.Default, in.HasDefault = a.m["value"]; in.HasDefault {
		delete(a.m, "value")
	}
	if in.Type, err = a.string("type"); err != nil {
		return Input{}, err
	}
	if in.Envelope, err = a.string("envelope"); err != nil {
		return Input{}, err
	}
	in.Extra = a.extra()
	return in, nil
}
