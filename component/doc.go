// Package component makes Go interfaces into components that callers
// reach through any transport, in this process or another, without
// knowing which: the interface is the contract, and deployment decides
// where each implementation runs.
//
// # Declaring and serving
//
// A component is a Go interface whose methods take a context.Context
// first and return an error last, and whose other parameters and results
// are glyph values: scalars, typed slices, string-keyed maps, structs
// (declared data records), and iter.Seq streams where the transport has
// them. [Register] puts an implementation on a [service.Service], which
// any transport serves (hyperhttp, hyperpeer, [ServeInProcess], and the
// RPC and NATS transports):
//
//	type Search interface {
//		RunQuery(ctx context.Context, query string, max int) ([]Result, error)
//	}
//	svc := service.New()
//	component.MustRegister[Search](svc, impl, component.Version("1.2"),
//		component.Method("RunQuery", component.Args("query", "max"),
//			component.Default("max", 10), component.ReadOnly(), component.Public()))
//
// On the wire the interface is a resource at "Search/" (linked from the
// service's index) whose profile names it and its version, with a form per
// method at "Search/run_query" whose inputs carry their types: the
// interface definition travels with the service (spec.md). Parameter
// names come from [Args], or from the fields of a single struct argument.
// Per-method declarations say whether a method is read-only or
// idempotent (retry-safe), public (reachable through the front), and its
// default deadline ([Timeout]).
//
// # Calling
//
// A [Router] maps interface names to providers through a routing table
// ([Routes]: from code, from a file, which [FollowRoutes] may follow, or
// from the environment variable GLYPH_ROUTES) that may change while calls
// run ([Router.SetRoutes]). Its provider URLs pick the transport by scheme:
// inproc:, http(s)://, ws(s)://, tcp://, unix://, jsonrpc+http(s)://,
// xmlrpc+http(s)://, nats://host:port/prefix, and schemes that other
// packages register ([RegisterScheme]; an unknown scheme is a
// [service.KindUnsupported] error). Callers bind through it:
//
//   - a struct of funcs, with no generated code ([Router.Bind]);
//   - a value of the interface itself ([Dial]), with the stubs that
//     `glyph gen` writes (run from go:generate).
//
// Binding checks the caller's expectations against each provider before
// the provider gets a call: a method the provider lacks, a changed type or
// a new required input is a [service.KindUnimplemented] error wrapping
// [ErrIncompatible] that names the interface, the method, what the caller
// expects and what the provider offers; new methods and inputs added with
// defaults are compatible. A method that needs a capability the
// transport lacks (callbacks over HTTP, say) is a
// [service.KindUnsupported] error at bind time, never a hang. At each
// call, arguments whose Go type says nothing (any) are checked against the
// provider's input types before anything is sent.
//
// A caller with no Go types for an interface, a gateway such as package
// component/front, asks the router for the interface as its providers
// describe it ([Router.Describe]) and binds from that description
// ([Router.BindDescribed]), calling with glyph values.
//
// # Colocated calls
//
// When an interface's route is one "inproc:<name>" provider and the
// service served there holds the implementation, [Dial] returns it behind
// the generated local stub: a plain Go call, with arguments and results
// copied as the wire would copy them (so caller and implementation share
// no memory) and errors of the kinds a remote caller sees. The URL
// "inproc:<name>?copy=0" opts out of the copies for speed: the
// implementation then gets the caller's slices and maps, and changes it
// makes to them show. A struct of funcs bound to an inproc provider calls
// through the service (with the same copies) instead.
//
// # Routing
//
// Several providers per interface share the calls: round robin, least
// pending, or by key, where a method's argument picks the provider by
// rendezvous hashing, so that a key stays on its provider as others come
// and go ([Balance]). A provider whose connection fails is marked down
// and probed in the background; calls go to the others, and fail with a
// retryable [service.KindUnavailable] error only when every provider is
// down. What a failed call does is the route's [FailMode]: fail fast,
// fail over to the next provider when the call provably was not sent or
// the method is retry-safe, or also retry retry-safe methods with backoff
// within a retry budget. The deadline of the caller's context and the
// headers of [client.WithCallHeader] (trace context, identity) travel with
// every call on the transports that carry them.
//
// # Transports
//
// A transport joins by implementing [Provider] (and [Streamer] when it
// streams) for its client and registering its URL scheme: a small
// adapter. Package componenttest holds the conformance suite that every
// transport runs.
//
// JSON-RPC, XML-RPC and NATS name methods ("Search.run_query") and describe
// no interface: callers bind to them unchecked, and the service checks
// each call when it arrives. Their results are plain values (JSON's, or
// XML-RPC's), converted to the caller's Go types part by part as the
// service converts arguments by their input types. XML-RPC has no
// arguments by name: a method that takes a struct gets its fields by
// position, in order. NATS streams results; the other two do not, and
// binding a streaming method to them is a [service.KindUnsupported] error.
//
// # Deployment
//
// A component binary lists the parts it can hold ([Part]: a component's
// name and the function that registers its implementation) and hands them
// to [Main] (or [Start]). Which of them a process serves, and where, is
// the deployment's choice: under a supervisor (package
// component/supervisor, `glyph run deploy.yaml`) the process serves the
// parts its environment names, on the sockets the supervisor passes
// down, routes to the others by the table it is given (in process for
// its own parts), requires and sends proof of the deployment's secret
// (package component/secret) on every connection, and reports ready; run
// alone, it serves every part in process. The same code thus runs as one
// process or as many, and colocation is a line of the deployment file.
package component
