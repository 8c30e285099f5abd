// Package hypernats serves a [service.Service] over NATS, as packages
// hyperhttp and hyperpeer serve it over HTTP and peer connections, for
// components on many machines: NATS routes the calls, its queue groups
// share them among replicas, and its clusters keep the calls going when
// a node goes away. The package only translates between NATS messages
// and the service layer.
//
//	nc, _ := nats.Connect(url)
//	srv, err := hypernats.NewServer(ctx, nc, svc, hypernats.WithPrefix("apps.search"))
//	...
//	defer srv.Shutdown(ctx)
//
// # Methods and subjects
//
// A service's callables are named by their paths with "/" replaced by
// ".": function "hello" is method "hello", method run_query of the
// component Search (at "Search/run_query") is "Search.run_query". Each
// is served on the subject "<prefix>.<method>" in a queue group, so that
// each call reaches one replica. [NewServer] finds the callables by
// reading the service's index and walking its forms and links, into the
// resources it links to under the service (bounded, as spec.md says),
// as packages jsonrpc and xmlrpc do; methods of instances whose state
// travels in their URL's query have no fixed name and are not served.
//
// The server registers a NATS micro service (package
// github.com/nats-io/nats.go/micro) with one endpoint per method, whose
// metadata gives its path, HTTP method and inputs (names, types in the
// input type grammar of package hyper, defaults), so that `nats micro
// list`, `nats micro info` and `nats micro stats` show it. The endpoint
// stats' data holds the counts of the calls themselves (spec.md says
// what micro's own counters count).
//
// # Payloads
//
// A request's Content-Type header picks the codec: application/json, or
// none, is plain JSON (what NATS tools send), and
// application/vnd.hyperglyph is glyph. Replies are in the caller's codec.
// JSON arguments are converted by the declared types of the inputs
// (integers, base64 bytes, RFC 3339 datetimes, ...), and results are
// written in a plain JSON form; spec.md beside this file has the
// mapping, the headers and the messages, with examples that the tests
// check byte for byte.
//
// A function returning an iter.Seq streams its result to a caller that
// asks for a stream ([Client.Stream]): one message per item, sent only
// while the caller has granted credit for it, so that a slow consumer
// slows the producer instead of making the server buffer; a caller that
// did not ask gets the items as one list. Callbacks and streamed
// arguments do not travel over NATS: calls that pass them fail with
// [service.KindUnsupported]. A streamed (iter.Seq) parameter takes a list.
//
// # Errors, deadlines and headers
//
// Errors are replied with the micro error headers (Nats-Service-Error,
// Nats-Service-Error-Code, whose code is the kind's HTTP status as
// [service.Kind.HTTPStatus] says) and the error, with its kind, message
// and logref, in the body. Every error gets a logref and is logged with
// it, at info level when the caller is at fault (a 4xx) and at error
// level when the server is (a 5xx). A call's deadline travels in the
// Glyph-Timeout header; its other headers are the request's
// [service.Request.Header], and the context of the Go code carries them
// ([peer.Header]), so that calls it makes pass them on.
//
// # Limits
//
// Payloads are bounded by the NATS server's max_payload and decoded
// within [WithLimits]; at most [WithMaxConcurrent] calls run at once (the
// others wait in the subscriptions' pending messages); a stream sends at
// most [WithMaxWindow] items ahead of its caller's credit and stops
// after [WithStreamIdleTimeout] without any. Nothing a caller sends makes
// the server panic.
package hypernats
