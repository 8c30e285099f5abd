// Package client navigates hyperglyph services: it fetches a page, follows
// the links and submits the forms the server put in it, and decodes what
// comes back. It never builds a URL; it uses the ones it is given, so it
// keeps working when the server moves things, adds methods or adds
// parameters with defaults.
//
// # Navigating
//
// [Client.Get] fetches a page and returns a *Value: the decoded glyph value
// with every URL in it made absolute against the URL the page came from
// (after redirects). [Value.Get] reads a field (a resource's content, a
// dict's key, a list's index); [Value.Call] calls a form or follows a link:
//
//	c := client.New()
//	index, err := c.Get(ctx, "http://localhost:8080/")
//	hello, err := index.Get("hello")                  // a form
//	greeting, err := hello.Call(ctx, "bob")           // POST, positional
//	greeting, err = hello.Call(ctx, client.Named{"name": "bob"})
//	var s string
//	err = greeting.Decode(&s)
//
// [Value.Path] does the same in one step for dotted paths such as
// "find_user.message", following links on the way.
//
// # Calling forms
//
// Arguments bind to the form's inputs in order, then by name (a
// [client.Named] as the last argument); omitted inputs take their defaults.
// A missing required argument, an unknown name or an argument whose type
// does not match the input's `type` is rejected before any request is
// made. The form's envelope (or, without one, its method's default: query
// for GET, form for POST, blob for PUT and PATCH, none for DELETE) decides
// how the arguments travel: an ordered dict in the body (form), a
// percent-encoded ordered dict replacing the URL's query (query), the raw
// body with a Content-Disposition naming the input (blob), or nothing
// (none). An input's own envelope, when it has one, sends that argument
// that way instead. PUT, PATCH and DELETE go as POST with a `Method`
// header unless WithoutMethodOverride is given.
//
// # Responses
//
// 200 gives the decoded body; 204 a nil value; 201 a link to the new
// resource's Location; 303 is followed with GET. A response whose content
// type is not hyperglyph is returned as a *[wire.Blob] that streams from the
// response (its `url` attribute is where it came from). 4xx and 5xx answers
// are *[service.Error] values whose Kind follows the status and whose
// message and logref come from the error body; StatusCode, IsClientError
// and IsServerError tell them apart. Network failures are [service.KindUnavailable]
// errors and context errors [service.KindCanceled] or [service.KindDeadlineExceeded] ones.
//
// # Blobs
//
// A *[wire.Blob], an io.Reader or an *os.File argument (its content type
// from its extension) is sent as a blob: streamed as the raw body with the
// blob envelope, or after the glyph body in chunks with the form envelope,
// never held in memory; []byte for an input of type blob is one too. A
// POST form without an envelope of its own whose one given argument is a
// blob sends it with the blob envelope, which the server streams to the
// function as it arrives (a glyph server accepts every envelope on POST);
// in a form body, beside other arguments, the server reads it whole before
// the call (to disk past 4 MiB). Blobs in a
// response stream from the connection: read them, then Close the value (a
// blob returned on its own is closed by closing the blob).
//
// # Caching and compression
//
// WithCache keeps the bodies of GET responses that carry an ETag and sends
// If-None-Match to revalidate them; a 304 reuses the stored body. Responses
// may be gzip-compressed; WithGzipRequests compresses request bodies too.
//
// # Peers
//
// The same navigation works over peer connections (package peer), with a
// service served by [hyperpeer.NewHandler]. A peer URL names an endpoint
// and a path: "ws://host:port/path" or "wss://..." (WebSocket),
// "tcp://host:port", "tls://host:port" (TCP with TLS, configured by the
// TLS config of [WithHTTPClient]'s transport), "unix:///path/to/socket",
// each optionally followed by "#<path>" (tcp:// and tls:// URLs may also
// give the path after host:port):
//
//	index, err := c.Get(ctx, "tcp://127.0.0.1:9000")
//	user, err := index.Path(ctx, "find_user", "bob")
//	greeting, err := user.Path(ctx, "greet", "hi")
//
// Values that came over a peer keep their connection: the URLs in them
// are paths ("/hello", "/User/?<state>"), and their links and forms are
// called over the same connection (absolute http and https URLs among
// them still go over HTTP). [Value.URL] shows such a path as a peer URL,
// "<endpoint>#<path>". The client keeps one connection per endpoint,
// dialled on first use and again on the call after it went down (a call
// in flight when it broke fails with a retryable [service.KindUnavailable] error: see
// [peer.Retryable]); [Client.Close] closes them. WithPeerOptions configures
// them; navigating needs the glyph codec, their default. The headers of
// WithHeader go with a WebSocket handshake, and those of a link or form
// with its call.
//
// Calls over peers answer as over HTTP: a See Other is followed by the
// server, Created gives a link, and errors are *[service.Error] values with
// the server's kind, operation, message and logref (but no StatusError).
// Blobs travel in memory, within the connection's frame size.
//
// Two things only peers do. A function whose result streams (an iter.Seq)
// sends its items one message each: Call collects them into the list HTTP
// would have sent, and [Value.Stream] yields them as they arrive. And a Go
// func passed as an argument is a callback: it is registered on the
// connection under a fresh name for the duration of the call, the name is
// sent in its place, and the server's calls to it run the func (a
// context.Context first parameter receives the call's; arguments are
// converted as Decode converts; a last error result is the call's error).
// Over HTTP a func argument is a [service.KindInvalid] error before any request.
//
// # Streamed arguments
//
// A Go iterator passed as an argument, a value of type iter.Seq[T] or
// iter.Seq2[T, error] for any T (any func(yield func(T) bool)), is a
// streamed argument, for a function with an iter.Seq parameter:
//
//	total, err := index.Path(ctx, "total", slices.Values([]int{1, 2, 3}))
//
// Each item is converted as an argument is and, when the input's type is
// a list type, checked against its item type; an iter.Seq2's error ends
// the call with that error. Over HTTP the items are collected into the
// list the input takes (at most MaxItems of the client's limits: more is
// a [service.KindTooLarge] error) before the request is made. Over a peer connection
// the items are sent one message each as the sequence yields them (the
// results are read meanwhile, so a function that streams its result from
// its streamed argument works with Call and Stream alike); an item that
// fails, or the iterator's error, cancels the call. The peer protocol
// sends only the items, so the streamed argument must be the call's only
// one: giving another is a [service.KindInvalid] error before any call, and the
// others take their defaults. A sequence without items is an empty list
// over HTTP and a stream of none over a glyph peer; to a baseline peer,
// which would receive one null item instead of none, it is a [service.KindUnsupported]
// error. A slice, unlike an iterator, is an ordinary argument on every
// transport: it travels with the others, in the call's one message over
// a peer as in the request's body over HTTP, and the function ranges over
// its items.
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
