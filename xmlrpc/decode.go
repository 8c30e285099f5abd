package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// limits bound what a decoder accepts.
type limits struct {
	maxDepth, maxItems, maxString int
}

// limitsOf returns the limits for l's fields (zero: wire's defaults;
// negative: none).
func limitsOf(l wire.Limits) limits {
	r := l.Resolved()
	return limits{maxDepth: min(r.MaxDepth, 1<<20), maxItems: r.MaxItems, maxString: r.MaxStringBytes}
}

// decoder reads an XML-RPC document token by token, within limits. Its
// errors are *service.Error values of kind invalid (the document is not
// XML-RPC) or too_large (it is over a limit).
type decoder struct {
	x     *xml.Decoder
	lim   limits
	depth int // open elements
}

func newDecoder(body []byte, lim limits) *decoder {
	x := xml.NewDecoder(bytes.NewReader(body))
	x.CharsetReader = charsetReader
	return &decoder{x: x, lim: lim}
}

// charsetReader accepts the encodings XML-RPC peers declare for UTF-8
// (or its ASCII subset) and refuses others.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	}
	return nil, fmt.Errorf("the encoding %q is not supported: send UTF-8", label)
}

// call decodes a methodCall: the method's name and its parameters.
func (d *decoder) call() (string, []any, error) {
	if err := d.start("methodCall"); err != nil {
		return "", nil, err
	}
	if err := d.start("methodName"); err != nil {
		return "", nil, err
	}
	name, err := d.text()
	if err != nil {
		return "", nil, err
	}
	var params []any
	switch t, err := d.next(); {
	case err != nil:
		return "", nil, err
	case isStart(t, "params"):
		if params, err = d.params(); err != nil {
			return "", nil, err
		}
		if err := d.end(); err != nil {
			return "", nil, err
		}
	case !isEnd(t):
		return "", nil, d.unexpected(t, "<params> or </methodCall>")
	}
	return strings.TrimSpace(name), params, d.eof()
}

// response decodes a methodResponse: a value, or a fault.
func (d *decoder) response() (any, *Fault, error) {
	if err := d.start("methodResponse"); err != nil {
		return nil, nil, err
	}
	t, err := d.next()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case isStart(t, "params"):
		params, err := d.params()
		if err != nil {
			return nil, nil, err
		}
		if len(params) != 1 {
			return nil, nil, invalid("a response with %d params, expected 1", len(params))
		}
		if err := d.end(); err != nil {
			return nil, nil, err
		}
		return params[0], nil, d.eof()
	case isStart(t, "fault"):
		if err := d.start("value"); err != nil {
			return nil, nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, nil, err
		}
		if err := d.end(); err != nil { // </fault>
			return nil, nil, err
		}
		if err := d.end(); err != nil { // </methodResponse>
			return nil, nil, err
		}
		f, err := faultOf(v)
		if err != nil {
			return nil, nil, err
		}
		return nil, f, d.eof()
	}
	return nil, nil, d.unexpected(t, "<params> or <fault>")
}

// params decodes the <param> elements up to </params>.
func (d *decoder) params() ([]any, error) {
	params := []any{}
	for {
		t, err := d.next()
		if err != nil {
			return nil, err
		}
		if isEnd(t) {
			return params, nil
		}
		if !isStart(t, "param") {
			return nil, d.unexpected(t, "<param>")
		}
		if len(params) >= d.lim.maxItems {
			return nil, rpcmap.TooLarge("more than %d params", d.lim.maxItems)
		}
		if err := d.start("value"); err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if err := d.end(); err != nil {
			return nil, err
		}
		params = append(params, v)
	}
}

// value decodes what follows a <value> start, up to its end.
func (d *decoder) value() (any, error) {
	// Each array or struct opens three elements (array, data, value;
	// struct, member, value) below the value that holds it.
	if d.depth > 3*d.lim.maxDepth+4 {
		return nil, rpcmap.TooLarge("values nested deeper than %d", d.lim.maxDepth)
	}
	var text strings.Builder
	for {
		t, err := d.x.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		switch t := t.(type) {
		case xml.CharData:
			if text.Len()+len(t) > d.lim.maxString {
				return nil, rpcmap.TooLarge("a string of more than %d bytes", d.lim.maxString)
			}
			text.Write(t)
		case xml.StartElement:
			d.depth++
			v, err := d.typed(t.Name.Local)
			if err != nil {
				return nil, err
			}
			return v, d.end()
		case xml.EndElement:
			d.depth--
			return text.String(), nil // a value without a type is a string
		}
	}
}

// typed decodes the element of a value's type, started, up to its end.
func (d *decoder) typed(name string) (any, error) {
	switch name {
	case "struct":
		return d.structValue()
	case "array":
		return d.array()
	case "nil":
		return nil, d.end()
	}
	s, err := d.text()
	if err != nil {
		return nil, err
	}
	switch name {
	case "string":
		return s, nil
	case "int", "i4", "i8", "i1", "i2":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, invalid("<%s> holds %q, not an integer", name, clip(s))
		}
		return n, nil
	case "boolean":
		switch strings.TrimSpace(s) {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
		return nil, invalid("<boolean> holds %q, not 0 or 1", clip(s))
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, invalid("<double> holds %q, not a number", clip(s))
		}
		return f, nil
	case "dateTime.iso8601":
		t, err := rpcmap.ParseTime(strings.TrimSpace(s))
		if err != nil {
			return nil, invalid("<dateTime.iso8601> holds %q, not a date and time", clip(s))
		}
		return t, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(stripSpace(s))
		if err != nil {
			return nil, invalid("<base64> holds data that is not base64")
		}
		return b, nil
	}
	return nil, invalid("<%s> is not an XML-RPC type", clip(name))
}

// structValue decodes the members of a <struct>, in order.
func (d *decoder) structValue() (any, error) {
	m := wire.NewOrderedDict()
	for n := 0; ; n++ {
		t, err := d.next()
		if err != nil {
			return nil, err
		}
		if isEnd(t) {
			return m, nil
		}
		if !isStart(t, "member") {
			return nil, d.unexpected(t, "<member>")
		}
		if n >= d.lim.maxItems {
			return nil, rpcmap.TooLarge("a struct of more than %d members", d.lim.maxItems)
		}
		if err := d.start("name"); err != nil {
			return nil, err
		}
		name, err := d.text()
		if err != nil {
			return nil, err
		}
		if err := d.start("value"); err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if err := d.end(); err != nil { // </member>
			return nil, err
		}
		m.Set(name, v) // a name given twice keeps its last value
	}
}

// array decodes the values of an <array>'s <data>.
func (d *decoder) array() (any, error) {
	if err := d.start("data"); err != nil {
		return nil, err
	}
	l := []any{}
	for {
		t, err := d.next()
		if err != nil {
			return nil, err
		}
		if isEnd(t) {
			break
		}
		if !isStart(t, "value") {
			return nil, d.unexpected(t, "<value>")
		}
		if len(l) >= d.lim.maxItems {
			return nil, rpcmap.TooLarge("an array of more than %d items", d.lim.maxItems)
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	return l, d.end() // </array>
}

// text reads character data up to the end of the element it is in.
func (d *decoder) text() (string, error) {
	var b strings.Builder
	for {
		t, err := d.x.Token()
		if err != nil {
			return "", syntaxError(err)
		}
		switch t := t.(type) {
		case xml.CharData:
			if b.Len()+len(t) > d.lim.maxString {
				return "", rpcmap.TooLarge("a string of more than %d bytes", d.lim.maxString)
			}
			b.Write(t)
		case xml.EndElement:
			d.depth--
			return b.String(), nil
		case xml.StartElement:
			return "", invalid("<%s> where text was expected", clip(t.Name.Local))
		}
	}
}

// next returns the next element start or end, skipping white space,
// comments and processing instructions; other text is an error.
func (d *decoder) next() (xml.Token, error) {
	for {
		t, err := d.x.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		switch x := t.(type) {
		case xml.StartElement:
			if d.depth++; d.depth > 3*d.lim.maxDepth+8 {
				return nil, rpcmap.TooLarge("values nested deeper than %d", d.lim.maxDepth)
			}
			return x, nil
		case xml.EndElement:
			d.depth--
			return x, nil
		case xml.CharData:
			if len(bytes.TrimSpace(x)) > 0 {
				return nil, invalid("text %q where an element was expected", clip(string(x)))
			}
		case xml.Directive:
			return nil, invalid("a document type declaration (XML-RPC has none)")
		}
	}
}

// start reads the start of the element name.
func (d *decoder) start(name string) error {
	t, err := d.next()
	if err != nil {
		return err
	}
	if !isStart(t, name) {
		return d.unexpected(t, "<"+name+">")
	}
	return nil
}

// end reads the end of the element that is open.
func (d *decoder) end() error {
	t, err := d.next()
	if err != nil {
		return err
	}
	if !isEnd(t) {
		return d.unexpected(t, "an end tag")
	}
	return nil
}

// eof checks that nothing but white space and comments follows.
func (d *decoder) eof() error {
	t, err := d.next()
	if errors.Is(err, errEOF) {
		return nil
	}
	if err != nil {
		return err
	}
	return d.unexpected(t, "the end of the document")
}

func (d *decoder) unexpected(t xml.Token, want string) error {
	switch t := t.(type) {
	case xml.StartElement:
		return invalid("<%s> where %s was expected", clip(t.Name.Local), want)
	case xml.EndElement:
		return invalid("</%s> where %s was expected", clip(t.Name.Local), want)
	}
	return invalid("%s was expected", want)
}

func isStart(t xml.Token, name string) bool {
	s, ok := t.(xml.StartElement)
	return ok && s.Name.Local == name
}

func isEnd(t xml.Token) bool {
	_, ok := t.(xml.EndElement)
	return ok
}

var errEOF = &service.Error{Kind: service.KindInvalid, Message: "the document ends too early"}

// errNotXML is the cause of the errors of a document that is not XML.
var errNotXML = errors.New("not XML")

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) {
		return errEOF
	}
	return &service.Error{Kind: service.KindInvalid, Message: "not XML: " + err.Error(), Err: errNotXML}
}

func invalid(format string, args ...any) error {
	return &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf(format, args...)}
}

// faultOf reads a fault's struct.
func faultOf(v any) (*Fault, error) {
	m, ok := v.(*wire.OrderedDict)
	if !ok {
		return nil, invalid("a fault that is not a struct")
	}
	code, _ := m.Get("faultCode")
	msg, _ := m.Get("faultString")
	c, ok1 := code.(int64)
	s, ok2 := msg.(string)
	if !ok1 || !ok2 || c < math.MinInt32 || c > math.MaxInt32 {
		return nil, invalid("a fault without an integer faultCode and a string faultString")
	}
	return &Fault{Code: int(c), String: s}, nil
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
