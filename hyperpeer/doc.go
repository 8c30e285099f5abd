// Package hyperpeer serves a service.Service over peer connections
// (package peer), as package hyperhttp serves it over HTTP: the same
// registrations, reached by callers that hold a persistent connection,
// with streamed arguments and results and callbacks. NewHandler returns
// the [peer.Handler] to serve on a connection or a [peer.Peer]:
//
//	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
package hyperpeer
