// Package hyperpeer serves a [service.Service] over peer connections
// (package peer), as package hyperhttp serves it over HTTP: the same
// registrations, reached by callers that hold a persistent connection,
// with streamed arguments and results and callbacks. [NewHandler] returns
// the [peer.Handler] to serve on a connection or a [peer.Peer]:
//
//	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
//
// This documentation is where the mapping of calls to service requests
// is written down; peer's spec.md describes the wire they travel on.
//
// # Calls
//
// Each incoming call becomes a [service.Request]:
//
//   - The method is the path below the service's root, which is "/" over
//     peers, with an optional leading "/" and the query after "?":
//     "hello" and "/hello" call function hello, "/User/?<state>" reads an
//     instance, "/User/message?<state>" calls its method, "" and "/" read
//     the index. These are the URLs the service hands out.
//   - A call marked safe ([peer.Safe]) is a GET, any other a POST. The
//     service lets a POST call a safe function, so baseline peers, which
//     cannot mark calls, call everything; and a call without arguments
//     that only GET can make (reading the index or an instance) is made
//     with GET.
//   - The payload holds the arguments: a list is positional arguments, a
//     map with string keys named ones (in the order of their sorted keys;
//     an ordered dict keeps its own), nil none, and any other value is
//     the one positional argument. To pass one list or map as a
//     positional argument, send a list holding it.
//   - A call whose arguments stream ([peer.ArgFormStream]) has them as the
//     request's Stream too, every payload the first included, so a
//     function with an iter.Seq parameter takes them one item per message;
//     a function without one binds the first payload as above. A call of
//     one message ([peer.ArgFormWhole]) is bound exactly as HTTP binds a
//     request, so {"xs": [1, 2, 3]} or [[1, 2, 3]] gives an iter.Seq
//     parameter xs three items, with no Stream. A remote without the
//     "end" extension (a baseline peer) sends a stream of one item as
//     that same lone message ([peer.ArgFormEither]): its payload is then
//     the arguments when it is a map whose names are all inputs of the
//     function, the streamed one among them, and the stream's one item
//     otherwise ([service.Request.StreamOrArgs]), so a duplex peer
//     streaming [42] to sum(xs) still sums 42.
//   - A callback argument is the name of a method the caller registered
//     on its side of the connection ([peer.Conn.Register], under a name
//     from [peer.NewCallbackName], as duplex's "_callback.<id>"). Calling
//     it calls that method: with no arguments the payload is nil, with one
//     that is not a list or map the argument itself, otherwise the list
//     of them.
//   - The call's headers (its ext's strings, [peer.ServerStream.Header])
//     are the request's Header, each name with one value, names as they
//     came.
//
// # Results
//
// The result is the reply. A value is sent as it is, links, forms and
// resources included, with URLs that are paths below "/": the caller
// calls them over the same connection (package client navigates them). A
// streamed result ([service.Stream]) is sent one message per item, a
// stream without items as an empty stream: a lone repend, or an empty
// list to a baseline peer ([peer.ServerStream.StreamResults]). An error
// after the first item ends the stream with an error reply. A See Other
// answer is followed here, with GET, and its page is the reply (one to an
// absolute URL elsewhere is answered with a link to it); Created is
// answered with a link to the new resource, NoContent with nil.
//
// Errors are replied with their kind's code, message, operation and
// logref: every error gets a logref, as over HTTP, and is logged with it,
// its op, kind and message on the connection's logger
// ([peer.Conn.Logger]), at info level when the caller is at fault (the
// kind's [service.Kind.HTTPStatus] is a 4xx) and at error level when the
// server is (a 5xx). The line per call, at debug level by default, is
// the service's (service.LogCalls).
//
// # Blobs and codecs
//
// Blobs in a result are read into memory, up to [WithMaxBlobBytes]. The
// glyph codec carries every value as it is. The json and msgpack codecs
// have no extensions, so a result holding links, forms, resources, blobs
// or other extensions is sent in a plain form that baseline peers can
// read: each extension becomes a map {"extension": name, "attrs": {...},
// "content": ...} (a blob's attrs hold its "content-type" and its content
// is its bytes), an ordered dict with string keys becomes a map and a set
// a list. Values with no such form (dicts with keys other than strings,
// timedeltas) fail the call with [service.KindUnsupported]. A client that
// navigates links and forms needs the glyph codec.
package hyperpeer
