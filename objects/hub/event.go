package hub

import "github.com/glyph-ipc/glyph/objects/record"

// EventKind says what an [Event] reports.
type EventKind int

// The kinds of event.
const (
	// EventUpdate: an object's state changed.
	EventUpdate EventKind = iota + 1
	// EventDelete: an object's owner deleted it.
	EventDelete
	// EventShare: someone shared an object with this account.
	EventShare
	// EventUnshare: an object's owner stopped sharing it with this account.
	EventUnshare
	// EventShared: a share this account made reached a remote, where the
	// recipient's daemon finds it.
	EventShared
	// EventShareFailed: a remote refused a share this account made.
	EventShareFailed
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case EventUpdate:
		return "update"
	case EventDelete:
		return "delete"
	case EventShare:
		return "share"
	case EventUnshare:
		return "unshare"
	case EventShared:
		return "shared"
	case EventShareFailed:
		return "share_failed"
	}
	return "unknown"
}

// An Event is something that happened to an object: a change from
// upstream (Origin empty) or made on this daemon by the application named
// by Origin.
type Event struct {
	Kind    EventKind
	Object  record.Address
	API     string
	Owner   record.Address // the object's owner
	From    record.Address // a share's sender
	Counter uint64         // a dynamic object's frame counter after an update
	Origin  string         // the application that made a local change; "" for upstream
	To      record.Address // the recipient of a share this account made
	Err     string         // why a share failed
}
