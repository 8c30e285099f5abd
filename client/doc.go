// Package client navigates hyperglyph services: it fetches a page, follows
// the links and submits the forms the server put in it, and decodes what
// comes back. It never builds a URL; it uses the ones it is given, so it
// keeps working when the server moves things, adds methods or adds
// parameters with defaults.
//
// # Navigating
//
// Client.Get fetches a page and returns a *Value: the decoded glyph value
// with every URL in it made absolute against the URL the page came from
// (after redirects). Value.Get reads a field (a resource's content, a
// dict's key, a list's index); Value.Call calls a form or follows a link:
//
//	c := client.New()
//	index, err := c.Get(ctx, "http://localhost:8080/")
//	hello, err := index.Get("hello")                  // a form
//	greeting, err := hello.Call(ctx, "bob")           // POST, positional
//	greeting, err = hello.Call(ctx, client.Named{"name": "bob"})
//	var s string
//	err = greeting.Decode(&s)
//
// Value.Path does the same in one step for dotted paths such as
// "find_user.message", following links on the way.
//
// # Calling forms
//
// Arguments bind to the form's inputs in order, then by name (a
// client.Named as the last argument); omitted inputs take their defaults.
// A missing required argument, an unknown name or an argument whose type
// does not match the input's `type` is rejected before any request is
// made. The form's envelope (or, without one, its method's default: query
// for GET, form for POST, blob for PUT and PATCH, none for DELETE) decides
// how the arguments travel: an ordered dict in the body (form), a
// percent-encoded ordered dict replacing the URL's query (query), the raw
// body with a Content-Disposition naming the input (blob), or nothing
// (none). An input's own envelope, when it has one, sends that argument
// that way instead. PUT, PATCH and DELETE go as POST with a `Method`
// header unless WithRealMethods is given.
//
// # Responses
//
// 200 gives the decoded body; 204 a nil value; 201 a link to the new
// resource's Location; 303 is followed with GET. A response whose content
// type is not hyperglyph is returned as a *wire.Blob that streams from the
// response (its `url` attribute is where it came from). 4xx and 5xx answers
// are *service.Error values whose Kind follows the status and whose
// message and logref come from the error body; StatusCode, IsClientError
// and IsServerError tell them apart. Network failures are Unavailable
// errors and context errors Canceled or DeadlineExceeded ones.
//
// # Blobs
//
// A *wire.Blob, an io.Reader or an *os.File argument (its content type
// from its extension) is sent as a blob: streamed as the raw body with the
// blob envelope, or after the glyph body in chunks with the form envelope,
// never held in memory; []byte for an input of type blob is one too. Blobs in a
// response stream from the connection: read them, then Close the value (a
// blob returned on its own is closed by closing the blob).
//
// # Caching and compression
//
// WithCache keeps the bodies of GET responses that carry an ETag and sends
// If-None-Match to revalidate them; a 304 reuses the stored body. Responses
// may be gzip-compressed; WithGzipRequests compresses request bodies too.
//
// # Typed stubs
//
// Bind fills a struct of func fields from a resource's links and forms, so
// a Go program can call a service through ordinary typed functions:
//
//	var api struct {
//		Hello func(ctx context.Context, name string) (string, error)
//	}
//	err := client.Bind(ctx, c, "http://localhost:8080/", &api)
//	s, err := api.Hello(ctx, "bob")
package client
