// Package link is the Go API applications use to share objects: a
// [Link] to the local daemon (package
// [github.com/glyph-ipc/glyph/objects/hub]), found as the daemon finds its
// configuration, and [Object] values of any Go type, kept in step with
// the daemon by [Codec]s (raw bytes, JSON, glyph values).
//
// An application never deals with remotes, keys or addresses of
// machines: it makes objects ([New]), reads them ([Get]), changes those
// it owns ([Object.Push]), shares them with other people's identities
// ([Object.Share]), and is called back when they change upstream
// ([Object.OnUpdate]) or when someone shares an object of an API id it
// handles ([Link.HandleShares]).
//
//	l, err := link.Dial(ctx, link.WithName("telemeter"))
//	status, err := link.New(ctx, l, link.JSON[Status](), "telemeter.status", Status{CPU: 0.3})
//	err = status.Share(ctx, monitor)
//	err = status.Push(ctx, Status{CPU: 0.5})
//
// The link talks to the daemon's glyph service over a peer connection on
// the daemon's Unix socket; the same service serves any other language.
package link
