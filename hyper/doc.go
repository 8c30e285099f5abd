// Package hyper is the hypermedia vocabulary of hyperglyph: the six
// extensions that turn glyph values into an interface a client navigates
// (link, form, input, resource, error, collection), the rules for their
// URLs, and the grammar of input types.
//
// # The vocabulary
//
// A server describes what a client may do with values of these types,
// and a client does only what they say; it never builds a URL:
//
//   - Link: a call without arguments, made with GET. It may carry its
//     response inline, and an ETag or modification time for conditional
//     requests.
//   - Form: a call with arguments, one Input per parameter, sent to its URL
//     with its method (POST by default).
//   - Input: one parameter: its name, an optional default, an optional
//     type (see Type).
//   - Resource: an object; its content holds its data and the links and
//     forms of its methods.
//   - Error: the body of a failed call, and a Go error.
//   - Collection: reserved for paginated collections: an ordered list of
//     items.
//
// Each type encodes itself ([wire.Marshaler]) into a [wire.Extension] whose
// attributes are written in canonical order, and importing this package
// registers each extension name with wire, so that decoding into any gives
// a Link, Form, Input, Resource, Error or Collection value (not a
// pointer). Pointers to the six types are wire.Unmarshalers, so struct
// fields and slices of them decode too.
//
// Decoding is lenient about absent optional attributes (and treats an
// attribute whose value is nil as absent) and strict about types: an
// attribute of the wrong type fails the decode with an error naming it,
// such as `form attribute "values" is integer, expected a list`.
// Attributes this package does not know are kept in each type's Extra and
// written back, so values pass through a Go program unchanged. Encoding
// omits absent attributes, except that links and forms always carry url
// and forms always carry method and values: the Python reference client
// needs them.
//
// # URLs
//
// URLs in these extensions may be relative. ResolveURLs makes them
// absolute for a client, and Resolve resolves one reference. The rules
// (RFC 3986 resolution throughout):
//
//   - The base starts as the URL the response came from, after redirects.
//   - An extension with a url makes that resolved URL the base for its
//     content: a resource whose url is "c/" in a response from
//     http://h/a/b holds methods relative to http://h/a/c/, so its link
//     "d" is http://h/a/c/d.
//   - An absent or empty url means the current base; an empty link or form
//     URL is a call to the page it came in.
//   - Attributes, such as the inputs of a form, resolve against the outer
//     base.
//
// # Input types
//
// An input's type attribute says what the parameter accepts, in a postfix
// grammar: "integer", "integer list/1" (a list of integers),
// "object unicode dict/2" (a dict from unicode to anything),
// "float list?/1 unicode dict/2" (a dict from unicode to nil or a list of
// floats). ParseType parses it into a Type and [Type.String] prints it back;
// [Type.Check] tests a decoded value against it, and TypeOf derives it from
// a Go type, which is how a service describes its parameters.
//
// The wire format and the HTTP mapping are in the project's hyperglyph
// specification; spec.md beside this file states what this package
// decides where that specification leaves room.
package hyper
