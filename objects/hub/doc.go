// Package hub is glyph's shared-objects daemon: the process that runs on
// each computer, keeps one account's objects in a local store, encrypts
// and signs everything it writes, and keeps that store in step with one
// or more persistence servers (package
// [github.com/glyph-ipc/glyph/objects/remote]). Applications talk only to
// their local daemon.
//
// # Configuration
//
// One YAML file ([Config]) found by [FindConfig]: the file named by the
// GLYPH_HUB_CONFIG environment variable, glyph-hub.yaml in the current
// directory, in the user's configuration directory (glyph/), then in
// /etc/glyph/. Unknown keys are errors, and every error names its line.
// One daemon runs per store directory: [Open] takes the directory's lock
// file (hub.lock, which holds the daemon's process id; [LockHolder]).
//
// # Accounts
//
// [Hub.Create] makes an identity ([record.Keys]), a key for this device
// ([record.Device]) and the account's own object, a dynamic object that
// holds the identity's keys, the list of the account's objects with their
// keys, its devices and its applications. That object is stored and
// synced like any other, and shared ([record.Share]) to a login identity
// derived from the account's name and password with Argon2id (RFC 9106's
// second recommended parameters: t=3, 64 MiB, p=4). [Hub.Login] on
// another computer, or after a reinstall, derives the same login identity
// from the name and password, reads its mailbox on a remote, opens the
// share and then the account object, and authorises a key of its own
// device. [Hub.ChangePassword] moves the account object to a new epoch
// whose key only the new login identity gets. The store directory's
// "account" file (mode 0600) keeps the identity's keys on this computer,
// so that the daemon starts without the password.
//
// # The outbox
//
// A write ([Hub.New], [Hub.Push], ...) is one durable commit of its
// records to the store, and returns only after it: the store's change
// log is the outbox. For each remote, a link publishes the log's entries
// signed by the account past that remote's cursor, in order and in
// batches, and moves the cursor; an unreachable remote is tried again
// with exponential backoff and jitter, so that a write made while every
// remote is down reaches them when they are back, and a daemon killed at
// any moment loses no write it acknowledged. A second link per remote
// follows the remote's changes of the account's objects and mailbox from
// a cursor kept beside the store, so nothing is missed across restarts:
// new frames of objects others own, frames this account's other devices
// pushed, shares, deletions. What one remote brings is drained to the
// others, so several remotes are kept in step. [Hub.Watch] reports those
// changes as [Event] values. Once every remote has everything, the store
// is swept ([WithGC]).
//
// # Applications
//
// [Hub.Serve] serves the daemon's glyph service ([Hub.Service]) to
// applications over peer connections on a Unix socket in a directory of
// mode 0700, and over HTTP on a second socket beside it, refusing
// processes of other users (SO_PEERCRED) on both, and, when
// configured, to browser pages over a loopback WebSocket that wants an
// allowed Origin and an application token. Applications register once
// and keep their token ([Hub.Register], [Hub.App]); a startup object is
// handed back at each later start; share handlers by API id get the
// shares that arrived while none was registered. Package
// [github.com/glyph-ipc/glyph/objects/link] is the Go side of it; spec.md
// beside this file states the service, the account object and the login
// derivation for other languages.
//
// # Limits
//
// One account per daemon. Two devices of one account that change the same
// object (or the account object) at once fork it: the remote keeps the
// first frame, and the other device's frame is refused and logged, not
// merged.
package hub
