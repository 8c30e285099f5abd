package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

func TestKindString(t *testing.T) {
	tests := []struct {
		k    store.Kind
		want string
	}{
		{store.KindIdentity, "identity"},
		{store.KindContainer, "container"},
		{store.KindFrame, "frame"},
		{store.KindBinding, "binding"},
		{store.KindDebinding, "debinding"},
		{store.KindShare, "share"},
		{0, "kind(0)"},
		{200, "kind(200)"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.k), got, tt.want)
		}
		if valid := !strings.HasPrefix(tt.want, "kind("); tt.k.Valid() != valid {
			t.Errorf("Kind(%d).Valid() = %v", uint8(tt.k), !valid)
		}
	}
}

// Every reason has the service kind its doc names, and survives wrapping.
func TestErrorf(t *testing.T) {
	tests := []struct {
		reason error
		kind   service.Kind
	}{
		{store.ErrInvalid, service.KindInvalid},
		{store.ErrTooLarge, service.KindTooLarge},
		{store.ErrNotFound, service.KindNotFound},
		{store.ErrFork, service.KindConflict},
		{store.ErrStale, service.KindConflict},
		{store.ErrGap, service.KindConflict},
		{store.ErrDebound, service.KindNotFound},
		{store.ErrQuota, service.KindPermissionDenied},
		{store.ErrCorrupt, service.KindInternal},
		{store.ErrClosed, service.KindUnavailable},
		{store.ErrLocked, service.KindUnavailable},
		{store.ErrSchema, service.KindUnsupported},
		{errors.New("other"), service.KindInternal},
	}
	for _, tt := range tests {
		err := store.Errorf("store.Op", tt.reason, "record %s", store.Addr{0xab})
		if !errors.Is(err, tt.reason) || service.KindOf(err) != tt.kind {
			t.Errorf("%v: is %v, kind %v; want %v", tt.reason, errors.Is(err, tt.reason), service.KindOf(err), tt.kind)
		}
		if err.Error() != "store.Op: record ab" {
			t.Errorf("%v: message %q", tt.reason, err)
		}
	}
}
