// Package hyperhttp serves a [service.Service] over HTTP with the
// hyperglyph 1.0 mapping, so that any hyperglyph client (glyph's own, the
// Python reference client, a browser's fetch, curl) can find and call its
// functions and classes by following the links and forms of its pages.
//
// A Handler is an ordinary http.Handler: mount it on a server or a mux,
// put it behind TLS, a proxy or a cache like any other.
//
//	svc := service.New()
//	svc.MustFunc("hello", hello, service.Args("name"), service.Default("name", "World"))
//	http.ListenAndServe(":8080", hyperhttp.NewHandler(svc))
//
// The handler only translates: it turns a request into a [service.Request]
// and a [service.Result] or error into a response. What is at which URL,
// which calls are safe and what a page holds is the service's business.
//
// # Requests
//
// GET and HEAD read pages and call links (safe functions, arguments in
// the query). POST calls forms; PUT, PATCH and DELETE do too, sent as
// themselves or as a POST with a Method header. The arguments travel in
// one of four envelopes, told apart by the request: none (no body), query
// (no body, a glyph ordered dict in the query string), form (a glyph
// ordered dict body, Content-Type application/vnd.hyperglyph) and blob
// (any other body, streamed to the function as its one argument). Bodies
// may be gzipped. A streaming input (an iter.Seq parameter) takes a list;
// HTTP has no callbacks, so a call to a function with a callback
// parameter is 400.
//
// # Responses
//
// A value is a 200 with its glyph encoding; nil is 204; a redirect 303;
// a created resource 201; an error its status with a hyperglyph error body
// whose logref the server log also holds. A single blob is sent as the
// raw body with its content type; values holding blobs stream. A streamed
// result ([service.Stream], from a function returning an iter.Seq) is one
// glyph list whose items are flushed as they are produced; an error
// after the first item aborts the response, so that the client sees a
// broken list instead of a short one. Answers to
// safe GETs carry a strong ETag and Cache-Control: no-cache (or, with
// [WithSharedCache], a lifetime in shared caches such as a reverse
// proxy's), and If-None-Match gets 304; answers to calls carry
// Cache-Control: no-store.
// Large answers are gzipped for clients that accept it.
//
// # JSON
//
// A request whose Accept header prefers application/json gets every
// answer, errors and streams included, as JSON in the mapping of package
// [glyphjson]: plain JSON for the common case, tagged objects for the rest,
// links and forms among them. A body of Content-Type application/json is
// the call's arguments (an object by name, an array by position), and a
// query that is a JSON object (`?{"x":7}`, percent-encoded) stands for the
// glyph query envelope. hyperglyph stays the default.
//
// # Browsers
//
// A request whose Accept header prefers text/html, as a browser's does,
// gets a page instead: the value rendered with html/template, links as
// anchors, forms as HTML forms whose controls follow the input types,
// errors as pages with the message and logref. Submitted forms
// (application/x-www-form-urlencoded bodies, and GET queries marked by
// the _charset_ field) bind by input name and convert by the input types
// of the form the service describes at the URL. Pages carry a strict
// Content-Security-Policy and run no script, and requests with side
// effects that another site made a browser send are refused (403; see
// [WithCrossOriginProtection]). spec.md, section 11, has the details.
//
// # Limits and failures
//
// Request bodies are bounded after decompression ([WithMaxRequestBytes]
// for glyph bodies, [WithMaxBlobBytes] for blob data) and answered 413
// beyond; malformed bodies and URLs are 400. Nothing a client sends makes
// the handler panic, and a panic in a function, in the service or while
// encoding its result is a 500 with a logref.
//
// A server facing the network bounds what its clients hold, each
// refusal a 503 with Retry-After and a hyperglyph error body, and a log
// line: [NewServer] sets the timeouts that close slow and idle clients,
// [LimitListener] bounds its connections, in all and per remote address
// ([DefaultMaxConns] by default), and [WithRateLimit] the requests per
// remote address (no limit by default, as in net/http).
//
// # Logging
//
// Every error response is logged with its logref, op, kind, status,
// method, path and message: at info level for a 4xx, the client's fault,
// and at error level for a 5xx. Each request is also logged at debug
// level with its status, duration and body size: HTTP's line, beside
// the service's line per call (service.LogCalls, with the caller and the
// logref). The logger is
// [WithLogger], or else [slog.Default] as it is when the line is
// logged, so that [slog.SetDefault] in main sets it for every handler.
//
// spec.md beside this file states the mapping in full, with examples that
// the tests send to a real server and check byte for byte.
package hyperhttp
