package hyperhttp

import (
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// HTML forms: how a hyper.Form becomes an HTML form, and how the fields
// a browser submits become the arguments of the call, converted by the
// form's input types. spec.md, section 11, states the rules.

// The reserved field names of an HTML form, which no input can take.
const (
	// fieldMethod carries a form's method when it is neither GET nor
	// POST, which are all an HTML form can send.
	fieldMethod = "_method"
	// fieldCharset is filled in by the browser with the charset of the
	// submission (HTML's own convention for a hidden input of that name):
	// it marks a query as an HTML form's.
	fieldCharset = "_charset_"
)

// Bounds of a submitted form, beside the size of its body.
const (
	maxFormFields = 1000 // fields, reserved ones included
	maxFormItems  = 10000
)

// htmlForm is a form as a page shows it.
type htmlForm struct {
	Name     string // the key the form is listed under; may be empty
	Method   string // "get" or "post"
	Override string // the method a POST stands for, in _method
	Action   string
	Fields   []htmlField
}

// htmlField is one input of a form.
type htmlField struct {
	Name    string
	Type    string // the input type, as the form states it
	Control string // number, checkbox, text, textarea, or none
	Step    string // of a number: 1 or any
	Value   string // the default, as the control shows it
	Checked bool   // a checkbox's default
	Note    string
}

// Controls by input type.
const (
	controlNumber   = "number"
	controlCheckbox = "checkbox"
	controlText     = "text"
	controlTextarea = "textarea"
	controlNone     = "none"
)

func formOf(f hyper.Form, name string) *htmlForm {
	hf := &htmlForm{Name: name, Method: "post", Action: f.URL}
	switch m := f.HTTPMethod(); m {
	case "GET":
		hf.Method = "get"
	case "POST":
	default:
		hf.Override = m
	}
	for _, in := range f.Values {
		hf.Fields = append(hf.Fields, fieldOf(in))
	}
	return hf
}

func fieldOf(in hyper.Input) htmlField {
	t := in.ParsedType()
	fd := htmlField{Name: in.Name, Type: t.String(), Control: controlOf(t)}
	switch fd.Control {
	case controlNumber:
		fd.Step = "1"
		if t.Name == "float" {
			fd.Step = "any"
		}
	case controlTextarea:
		fd.Note = "one item per line"
		if t.Name == "blob" {
			fd.Note = "sent as a text/plain blob"
		}
	case controlNone:
		fd.Note = "an HTML form cannot give this input; use a glyph or JSON client"
	}
	switch {
	case !in.HasDefault:
		if t.Nullable && !textual(t) && fd.Control != controlCheckbox && fd.Control != controlNone {
			fd.Note = strings.TrimPrefix(fd.Note+"; empty is nil", "; ")
		}
	case fd.Control == controlCheckbox:
		fd.Checked = in.Default == true
	default:
		fd.Value = fieldText(in.Default)
	}
	return fd
}

// controlOf returns the control of an input type.
func controlOf(t hyper.Type) string {
	switch t.Name {
	case "integer", "float":
		return controlNumber
	case "bool", "true", "false":
		return controlCheckbox
	case "object", "unicode", "bytearray", "datetime", "timedelta":
		return controlText
	case "blob":
		return controlTextarea
	case "list", "set":
		if len(t.Params) == 0 {
			return controlTextarea
		}
		switch controlOf(t.Params[0]) {
		case controlText, controlNumber, controlCheckbox:
			return controlTextarea // an item per line
		}
	}
	return controlNone
}

// fieldText returns a default as a control shows it, in the syntax
// fieldValue reads back.
func fieldText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case []any:
		lines := make([]string, len(x))
		for i, it := range x {
			lines[i] = fieldText(it)
		}
		return strings.Join(lines, "\n")
	case wire.Set[any]:
		lines := make([]string, 0, len(x))
		for _, it := range canonicalOrder(setItems(x)) {
			lines = append(lines, fieldText(it))
		}
		return strings.Join(lines, "\n")
	}
	b, err := wire.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func setItems(s wire.Set[any]) []any {
	out := make([]any, 0, len(s))
	for it := range s {
		out = append(out, it)
	}
	return out
}

// formArgs binds the fields of a submitted form to the inputs of f (zero
// when the target has no form: then every field is text) and returns
// the arguments, in the order of f's inputs, then of the other fields,
// and the method a POST stands for ("" when the form gives none).
func formArgsOf(f hyper.Form, fields url.Values) (*wire.OrderedDict, string, error) {
	override := ""
	if vs := fields[fieldMethod]; len(vs) > 0 {
		override = strings.ToUpper(strings.TrimSpace(vs[len(vs)-1]))
	}
	if vs := fields[fieldCharset]; len(vs) > 0 && vs[0] != "" && !strings.EqualFold(vs[0], "utf-8") {
		return nil, "", fmt.Errorf("the form was sent in %s: only UTF-8 is accepted", quoteShort(vs[0]))
	}
	for name, vs := range fields {
		if !utf8.ValidString(name) {
			return nil, "", fmt.Errorf("a field name is not UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, "", fmt.Errorf("field %q is not UTF-8", name)
			}
		}
	}
	args := wire.NewOrderedDict()
	seen := map[string]bool{fieldMethod: true, fieldCharset: true}
	for _, in := range f.Values {
		if seen[in.Name] {
			continue
		}
		seen[in.Name] = true
		v, ok, err := fieldValue(in, fields[in.Name])
		if err != nil {
			return nil, "", fmt.Errorf("input %q: %w", in.Name, err)
		}
		if ok {
			args.Set(in.Name, v)
		}
	}
	for name, vs := range fields {
		if seen[name] {
			continue
		}
		// Not an input of the form: the service names it as unknown.
		v, _, err := fieldValue(hyper.Input{Name: name}, vs)
		if err != nil {
			return nil, "", fmt.Errorf("field %q: %w", name, err)
		}
		args.Set(name, v)
	}
	return args, override, nil
}

// fieldValue converts the values a form submitted for one input by the
// input's type. ok is false when the argument is omitted: no field, or
// an empty one for an input with a default.
func fieldValue(in hyper.Input, vs []string) (v any, ok bool, err error) {
	t := in.ParsedType()
	switch controlOf(t) {
	case controlCheckbox:
		if len(vs) == 0 {
			return nil, false, nil
		}
		// A checkbox comes after its hidden "false": the last one wins.
		b, err := strconv.ParseBool(strings.TrimSpace(vs[len(vs)-1]))
		if err != nil && vs[len(vs)-1] == "on" {
			b, err = true, nil // a checkbox without a value
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s is not true or false", quoteShort(vs[len(vs)-1]))
		}
		return b, true, nil
	case controlTextarea:
		if t.Name == "blob" {
			if len(vs) == 0 {
				return nil, false, nil
			}
			return wire.BytesBlob("text/plain; charset=utf-8", []byte(strings.Join(vs, "\n"))), true, nil
		}
		return listValue(in, t, vs)
	case controlNone:
		if len(vs) == 0 {
			return nil, false, nil
		}
		return nil, false, errors.New("an HTML form cannot give an input of type " + t.String())
	}
	switch len(vs) {
	case 0:
		return nil, false, nil
	case 1:
	default:
		return nil, false, fmt.Errorf("given %d times", len(vs))
	}
	s := vs[0]
	if s == "" {
		// An emptied field: the default, else the empty text of a text
		// input, else nil when the input takes it.
		switch {
		case in.HasDefault:
			return nil, false, nil
		case t.Nullable && !textual(t):
			return nil, true, nil
		}
	}
	v, err = scalarValue(t, s)
	return v, err == nil, err
}

// textual reports whether an emptied field of type t is the empty text,
// rather than nothing.
func textual(t hyper.Type) bool {
	return t.Name == "unicode" || t.Name == "object" || t.Name == "bytearray"
}

// listValue reads a list or set input: its items one per line of every
// field given for it, empty lines skipped.
func listValue(in hyper.Input, t hyper.Type, vs []string) (any, bool, error) {
	var elem hyper.Type
	if len(t.Params) > 0 {
		elem = t.Params[0]
	}
	var items []any
	for _, s := range vs {
		for line := range strings.Lines(s) {
			line = strings.TrimRight(line, "\r\n")
			if strings.TrimSpace(line) == "" {
				continue
			}
			if len(items) == maxFormItems {
				return nil, false, fmt.Errorf("more than %d items", maxFormItems)
			}
			v, err := scalarValue(elem, line)
			if err != nil {
				return nil, false, fmt.Errorf("item %d: %w", len(items), err)
			}
			items = append(items, v)
		}
	}
	switch {
	case len(items) == 0 && (len(vs) == 0 || in.HasDefault):
		return nil, false, nil
	case len(items) == 0 && t.Nullable:
		return nil, true, nil
	case items == nil:
		items = []any{}
	}
	if t.Name == "set" {
		s := wire.Set[any]{}
		for _, it := range items {
			s.Add(it)
		}
		return s, true, nil
	}
	return items, true, nil
}

// scalarValue converts one field's text to a value of type t.
func scalarValue(t hyper.Type, s string) (any, error) {
	switch t.Name {
	case "integer":
		s = strings.TrimSpace(s)
		if len(s) > 400 {
			return nil, fmt.Errorf("%s is not an integer of at most 400 digits", quoteShort(s))
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("%s is not an integer", quoteShort(s))
		}
		return n, nil
	case "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a number", quoteShort(s))
		}
		return f, nil
	case "bytearray":
		return []byte(s), nil
	case "datetime":
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if tm, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return tm, nil
			}
		}
		return nil, fmt.Errorf("%s is not a date and time (2006-01-02T15:04:05Z07:00)", quoteShort(s))
	case "timedelta":
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s is not a duration (1h30m, 90s, ...)", quoteShort(s))
		}
		return d, nil
	case "bool", "true", "false":
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s is not true or false", quoteShort(s))
		}
		return b, nil
	}
	// unicode and object: the text itself.
	return s, nil
}
