// Package service makes ordinary Go functions and types callable by other
// processes, as the hyperglyph protocol describes them: functions, types,
// instances and methods become resources, links and forms (package hyper)
// that a client follows instead of building requests. It is the layer
// between the transports and the application: every transport (HTTP,
// peers, in-process) decodes a request, calls [Service.Serve] and encodes
// the Result, so a service behaves the same whichever way it is reached.
//
// # Functions
//
// Func registers a plain Go function under a name:
//
//	svc := service.New()
//	svc.MustFunc("greet", func(name string, excited bool) string { ... },
//		service.Args("name", "excited"), service.Default("excited", false))
//
// Go reflection does not know parameter names, so a function names its
// parameters with Args, or takes a single struct whose fields are its
// inputs, named as package wire names them (the field name, or the name in
// a `glyph:"name"` tag):
//
//	type GreetArgs struct {
//		Name    string
//		Excited bool `glyph:"excited,optional"`
//	}
//	svc.MustFunc("greet", func(a GreetArgs) string { ... })
//
// An input is required unless it has a default: Default gives one, and a
// struct field tagged optional (or omitempty) defaults to its zero value.
// Adding a parameter with a default never breaks an old client, whose
// calls simply omit it. Each call gets its own copy of a default.
//
// A first parameter of type context.Context receives the request's
// context. A last result of type error reports failure (see Errors).
//
// # Inputs and their types
//
// The function's form lists one input per parameter, in order, with its
// name, its default, and its type in the input type grammar ([hyper.TypeOf]
// of the Go type: "integer", "unicode list/1", ...). Serve binds
// positional arguments first, then named ones, and checks each against
// its type before converting it to the Go type. A mismatch is a [KindInvalid]
// error that names the input and says what was wrong where, such as
// `greet: argument "name": expected unicode, got integer`; so are a
// missing required argument, an unknown one, one given both by position
// and by name, and too many positional arguments.
//
// # Streaming inputs
//
// One parameter may be an iter.Seq[T] or an iter.Seq2[T, error]: its
// items stream. A transport with streams (peers) sets Request.Stream, one
// value per message; Serve then binds that parameter to the Stream's
// items and gives every other parameter its default, without looking at
// the request's other arguments (unless the transport could not tell a
// stream of one item from the arguments: Request.StreamOrArgs). Without
// a Stream (HTTP, and a peer call whose arguments are one message), the
// parameter
// takes a list argument like any other, and its form input's type is the
// list type of T ("integer list/1"). Either way each item is checked and
// converted to T as it is read, and a streaming input takes no default.
//
// An item that does not convert, or an error from the transport's
// stream, is an *Error ([KindInvalid] naming the item's index, [KindCanceled], ...).
// An iter.Seq2 yields it with a zero T and goes on, for the function to
// decide; an iter.Seq stops there, and the call fails with that error
// once the function returns, whatever the function returned. The
// sequence may be ranged over once: a second range yields nothing.
//
// # Callbacks
//
// A parameter of another func type is a callback: the caller passes a
// reference to one of its own functions, which the transport resolves
// (Request.Callback; peers pass the name the caller registered), and the
// function receives a Go func of the parameter's type that calls it. The
// func may take a context.Context first (else the call's context is
// used); its other arguments are sent as they are, and its one optional
// value result is converted from what the caller answered like an
// argument. A last error result receives the callback's failure as an
// *Error; a func without one gets zero results, and the failure is
// logged at warn level. A callback is valid during its call only (for a
// streamed result, until the stream ends): used later, it fails with
// [KindCanceled] without reaching the caller. A transport without callbacks
// (HTTP) answers a call to such a function with [KindInvalid]. A callback
// takes no default, and its form input's type is object: the input type
// grammar has no name for callbacks.
//
// # Classes and instances
//
// Class registers a struct type. An instance's state is T's fields, as
// wire encodes them; T's exported methods become the instance's forms,
// named in snake_case (FindUser becomes find_user), with options set by
// Method. The class's URL offers the constructor's form: by default its
// inputs are the state fields; Constructor sets a function instead.
// Calling it creates an instance and answers 303 See Other to the
// instance's URL.
//
// By default the whole state travels in the instance's URL, as a
// percent-encoded glyph dict in the query, and the server keeps nothing:
// each request rebuilds the instance from its URL, calls the method, and
// forgets it, so any replica can answer and URLs are cacheable. A method
// that changes its receiver changes only that request's copy; to hand out
// the changed instance, return it. With [WithStateKey] the state is signed
// and a URL whose state was changed, or that holds a field T does not
// have, is rejected ([KindInvalid]); and since a signature is then the
// server's word that it made the state, such a class has no default
// constructor (which would sign whatever state a caller sends): it offers
// only a [Constructor] it names, or the default one when
// [ConstructorFromState] asks for it. Without a key, state that does not
// decode into T is rejected the same way, but a client can forge any
// state that does.
//
// Persistent keeps instances on the server instead, in a Store (a
// MemoryStore when given nil) under an opaque id: the URL holds only the
// id.
// After a method called other than with GET, the instance's state is
// saved, and such calls on one id run one at a time. A method that
// returns its receiver refers to the same instance; any other instance of
// a persistent class in a result is saved under a new id.
//
// A method's name and a state field's name must differ, as must the wire
// names of two methods: registration fails otherwise.
//
// # Kinds of function and method
//
// A function or method is one of:
//
//   - unsafe (the default): a form called with POST. GET on its URL
//     returns the form instead of calling it.
//   - Safe: free of side effects, called with GET, and its answers may be
//     cached (CacheControl sets how). Offered as a link, or as a form with
//     method GET when it has inputs.
//   - Inline: a link whose result is embedded in the page that lists it
//     (the index or the instance's resource), computed with the defaults.
//
// Hidden keeps any of these out of listings; it stays callable at its URL.
//
// # Results
//
// Serve maps what the Go code returned:
//
//   - nil (or no result, or a nil pointer): StatusNoContent.
//   - an instance of a registered class (T or *T): its resource, with the
//     state and a link or form per method; with the Redirect option, 303
//     See Other to its URL instead. Instances inside slices, arrays, maps
//     and pointers become resources too.
//   - a registered function: its form (or link).
//   - a *wire.Blob: passed through; transports may send it as raw content
//     with its content type.
//   - SeeOther or Created: 303 or 201 to the URL.
//   - an iter.Seq[T] or iter.Seq2[T, error]: a Stream, which the
//     transport ranges over to send the items as they are produced (HTTP
//     as one list, peers one message each). Each item is mapped like a
//     result value; an iter.Seq2's error, or a panic while producing,
//     ends the stream with an error (mapped as in Errors). Breaking off
//     the range stops the producer. Streams are never cacheable. A method
//     of a persistent instance that streams has its state saved when it
//     returns, before its stream is produced.
//   - anything else: the value, encoded by package wire.
//
// # Errors
//
// Every error Serve returns is an *Error with a Kind that maps to an HTTP
// status ([Kind.HTTPStatus]) and a message. Go code returns an *Error (see
// Errorf) to choose the kind its caller sees; any other error becomes
// [KindInternal] with the error's text, and context errors become [KindCanceled] or
// [KindDeadlineExceeded]. A panic in the Go code is recovered into a [KindInternal]
// error whose message is only "internal error". [KindInternal] errors carry a
// logref, which is logged with the cause (and a panic's stack) on the
// logger set by [WithLogger], so a caller's report can be found in the
// log; without it that is [slog.Default] as it is when the line is
// logged, so [slog.SetDefault] in main sets it for every service, and for
// the transports too (see packages hyperhttp and peer).
//
// # Logging
//
// Each call a service serves is logged as one line, "glyph: call", at debug
// level, on the service's logger ([WithLogger], else [slog.Default] as it is
// when the line is logged): its method, the caller's transport and address,
// its duration, a stream's messages, and for a failure its kind and logref
// ([LogCalls], which runs outermost around the interceptors, on every
// transport). [WithCallLog] sets another level and [WithoutCallLog] turns the
// line off; while
// the logger does not log at that level, the line costs nothing. Failures are
// also logged by the transports as before, at info level when the caller is at
// fault and at error level when the server is, with the same logref; package
// hyperhttp adds a debug line per HTTP request with its status and body size.
//
// # Serving
//
// A transport turns its request into a Request (a method, a path below
// the service's root, and decoded arguments) and its Result into a reply.
// Paths under the root are:
//
//	""                     the index: a resource listing every function
//	                       and class that is not hidden (GET)
//	"f"                    function f
//	"C"                    class C's constructor form (GET), or a new
//	                       instance (POST)
//	"C/?<state>"           an instance whose state is in its URL (GET)
//	"C/m?<state>"          its method m
//	"C/<id>/", "C/<id>/m"  a persistent instance, and its method m
//	"O/", "O/m"            an object (see Service.Object), and its method m
//
// An object is a fixed resource with a profile whose methods are plain
// functions, such as a Go interface registered by package component: its
// methods' URLs need no query. The functions Serve calls read the
// request's headers (HTTP headers, peer call headers) with RequestHeader.
//
// These URLs are the service's own: clients get them from the index and
// the resources, never build them. A path that names nothing is [KindNotFound];
// a call with the wrong method (POST to the index or an instance, GET with
// arguments to an unsafe function) is [KindMethodNotAllowed].
//
// [WithInterceptors] runs middleware (package
// [github.com/glyph-ipc/glyph/intercept]) around every call Serve answers,
// whichever transport made it: each sees the call's path, headers,
// arguments, the caller (intercept.PeerFromContext: transport, address,
// TLS state, Unix credentials), the deadline and the result or error; a
// call whose arguments or results stream is seen as a stream of messages.
//
// Register everything before serving. Serve is safe for concurrent use.
package service
