// Package front is the unified front of a deployment's components: one
// port on which the public methods of every component interface are
// served, over every protocol glyph speaks, and forwarded through a
// [component.Router] to wherever each component runs, over whatever
// transport its route names.
//
//	r, err := component.NewRouter(component.WithRoutes(routes))
//	f, err := front.New(ctx, r)                  // every routed interface
//	l, err := net.Listen("tcp", ":8080")
//	err = f.Serve(ctx, l)
//
// # What it serves
//
// A [Front] is an http.Handler. On it:
//
//   - "/" is the front's index, a hyperglyph resource that links to each
//     interface served; "<Interface>/" is the interface's resource, with
//     the profile its providers give it and one form (or link) per public
//     method at "<Interface>/<method>", whose inputs carry the provider's
//     names, types and defaults and whose attributes its declarations
//     (package component's spec.md). Callers navigate it as any
//     hyperglyph service: the glyph client, the Python client, curl.
//   - [PathPeer] ("/peer") takes WebSocket peers, which reach the same
//     resources and call the same methods over one connection.
//   - [PathJSONRPC] ("/jsonrpc") is JSON-RPC 2.0 and [PathXMLRPC] ("/RPC2")
//     XML-RPC, whose methods are named "<Interface>.<method>"
//     ("Search.run_query").
//
// The front is itself a glyph service ([Front.Service]) that holds one
// forwarder per public method and nothing else, and every protocol above
// serves that service: a method not marked public, or an interface
// without public methods, is not in it, so a call to it gets the answer
// a name that never existed gets (404 over HTTP, the not-found code over
// the others), and its name does not show in any listing.
//
// # How the front learns the public methods
//
// A method is public when its registration says so
// ([component.Public]); its form then carries the attribute public
// (package component's spec.md), and the description a provider gives of
// its interface ([component.Router.Describe], [component.Signature])
// says Public. [New] describes each interface it serves through the
// router once, keeps the public methods, and binds to them with
// [component.Router.BindDescribed], which checks every provider against
// that description before its first call: a provider that later changes
// a public method incompatibly is refused with a clear error instead of
// being called wrongly. The front shows each interface as it was
// described when it was built; to show a changed interface, build the
// front again (restart its process).
//
// Providers over JSON-RPC, XML-RPC or NATS name methods without
// describing interfaces: an interface whose every provider is of that
// kind is left out when the front discovers its interfaces from the
// routing table, and is an error when named with [WithInterfaces],
// unless [WithDescription] gives its description.
//
// # Forwarding
//
// Each call is bound and type-checked by the front's service as the
// provider would (the front's forms carry the provider's input types),
// then forwarded with every input in order, an omitted one as the
// default the provider described. The call's deadline (Glyph-Timeout
// over HTTP, the peer envelope's) is the forwarded call's, so a component
// stops when the outside caller gives up; its headers (trace context,
// identity) are passed on as call headers ([client.WithCallHeader]),
// except those of the connection or the protocol ([DroppedHeaders]) and
// those named with [WithoutHeaders]. Results come back as the provider's
// result type says; a streamed result streams to peers and arrives as
// one list over HTTP, and JSON-RPC and XML-RPC refuse it; a public
// method whose result streams from providers that cannot stream
// (JSON-RPC, XML-RPC) is left out, with a warning in the log. Errors keep
// their kind. Callbacks are not forwarded.
//
// # Serving it as a component
//
// The front is stateless: it holds a router and the descriptions, so any
// number of replicas may serve the same deployment, each built from its
// process's router. In a component binary the front is one of its parts,
// [Part], which [component.Start] (and [component.Main]) serves in the
// processes the deployment assigns it ("front"): it builds the front over
// the process's router, exposing the components the deployment marks
// public, and serves it on the listener the supervisor passed down:
//
//	component.Main([]component.Part{
//		{Name: "Storage", Install: installStorage},
//		{Name: "Search", Install: installSearch},
//		front.Part(),
//	})
//
// Elsewhere, build the front with [New] over a router and serve it with
// [Front.Serve], or mount its handler on a server of your own;
// [Front.Service] serves the same methods over another transport.
//
// The front's port is the deployment's public one: it takes calls from
// outside, so the deployment's secret, which its router sends to the
// components, is not asked of its callers, and [Part] drops the secret's
// header ([WithoutHeaders]) so that a caller cannot pass one on. Build
// the front after the components it forwards to are ready: New describes
// them, and fails when none of an interface's providers can be reached
// (a supervisor starts the front after what it uses is ready, and again
// with backoff when it fails).
package front
