package store

import (
	"fmt"
	"math"
)

// Check reports whether m follows the rules of its kind, as an error that
// says which rule it breaks (wrapping [ErrInvalid]); [Store.Put] checks it
// first:
//
//   - Addr and Owner: 1 to [MaxAddr] bytes; Kind one of the kinds;
//     Size not negative.
//   - Object: set for frames, bindings and debindings, empty otherwise.
//   - Counter and Prev: frames only; Counter below 2^63; Prev empty
//     exactly when Counter is 0.
//   - Targets: at most [MaxTargets], each a valid address; at least one
//     for a frame; a binding lists its Object; none for identities,
//     debindings and shares.
//   - Recipient: set for a share, allowed for a debinding, empty
//     otherwise.
func (m Meta) Check() error {
	bad := func(format string, args ...any) error {
		return Errorf("store.Put", ErrInvalid, "%s %s: %s", m.Kind, m.Addr, fmt.Sprintf(format, args...))
	}
	if !m.Kind.Valid() {
		return Errorf("store.Put", ErrInvalid, "record %s: unknown kind %d", m.Addr, uint8(m.Kind))
	}
	if err := checkAddr("address", m.Addr); err != "" {
		return bad("%s", err)
	}
	if err := checkAddr("owner", m.Owner); err != "" {
		return bad("%s", err)
	}
	if m.Size < 0 {
		return bad("negative size %d", m.Size)
	}
	switch m.Kind {
	case KindFrame, KindBinding, KindDebinding:
		if err := checkAddr("object", m.Object); err != "" {
			return bad("%s", err)
		}
	default:
		if len(m.Object) != 0 {
			return bad("has an object")
		}
	}
	if m.Kind != KindFrame && (m.Counter != 0 || len(m.Prev) != 0) {
		return bad("only frames have a counter and a previous frame")
	}
	if m.Kind == KindFrame {
		if m.Counter > math.MaxInt64 {
			return bad("counter %d over 2^63-1", m.Counter)
		}
		if (m.Counter == 0) != (len(m.Prev) == 0) {
			return bad("counter %d with %d bytes of previous frame", m.Counter, len(m.Prev))
		}
		if len(m.Prev) != 0 {
			if err := checkAddr("previous frame", m.Prev); err != "" {
				return bad("%s", err)
			}
		}
	}
	if len(m.Targets) > MaxTargets {
		return bad("%d targets, over %d", len(m.Targets), MaxTargets)
	}
	for _, t := range m.Targets {
		if err := checkAddr("target", t); err != "" {
			return bad("%s", err)
		}
	}
	switch m.Kind {
	case KindFrame:
		if len(m.Targets) == 0 {
			return bad("no target")
		}
	case KindBinding:
		if !containsAddr(m.Targets, m.Object) {
			return bad("its object is not among its targets")
		}
	case KindIdentity, KindDebinding, KindShare:
		if len(m.Targets) != 0 {
			return bad("has targets")
		}
	}
	switch m.Kind {
	case KindShare:
		if err := checkAddr("recipient", m.Recipient); err != "" {
			return bad("%s", err)
		}
	case KindDebinding:
		if len(m.Recipient) != 0 {
			if err := checkAddr("recipient", m.Recipient); err != "" {
				return bad("%s", err)
			}
		}
	default:
		if len(m.Recipient) != 0 {
			return bad("has a recipient")
		}
	}
	return nil
}

// CheckAddr reports whether a is a valid address, as an [ErrInvalid]
// error for op naming what a is.
func CheckAddr(op, what string, a Addr) error {
	if err := checkAddr(what, a); err != "" {
		return Errorf(op, ErrInvalid, "%s", err)
	}
	return nil
}

func checkAddr(what string, a Addr) string {
	switch {
	case len(a) == 0:
		return "no " + what
	case len(a) > MaxAddr:
		return fmt.Sprintf("%s of %d bytes, over %d", what, len(a), MaxAddr)
	}
	return ""
}

func containsAddr(list []Addr, a Addr) bool {
	for _, x := range list {
		if string(x) == string(a) {
			return true
		}
	}
	return false
}
