package storeimpl_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/internal/storeimpl"
)

func TestTargets(t *testing.T) {
	long := bytes.Repeat([]byte{7}, store.MaxAddr)
	tests := []struct {
		name    string
		in      []byte
		want    []store.Addr
		wantErr bool
	}{
		{"empty column", nil, nil, false},
		{"none", []byte{0}, nil, false},
		{"one", []byte{1, 2, 0xaa, 0xbb}, []store.Addr{{0xaa, 0xbb}}, false},
		{"two", []byte{2, 1, 9, 1, 8}, []store.Addr{{9}, {8}}, false},
		{"longest", append([]byte{1, store.MaxAddr}, long...), []store.Addr{long}, false},
		{"too many", []byte{store.MaxTargets + 1}, nil, true},
		{"empty address", []byte{1, 0}, nil, true},
		{"address too long", append([]byte{1, store.MaxAddr + 1}, long...), nil, true},
		{"missing", []byte{2, 1, 9}, nil, true},
		{"cut short", []byte{1, 3, 9}, nil, true},
		{"trailing", []byte{1, 1, 9, 0}, nil, true},
	}
	for _, tt := range tests {
		got, err := storeimpl.DecodeTargets(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], tt.want[i]) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
		if !tt.wantErr && len(tt.in) > 0 {
			if enc := storeimpl.EncodeTargets(got); !bytes.Equal(enc, tt.in) {
				t.Errorf("%s: encodes back as %x, want %x", tt.name, enc, tt.in)
			}
		}
	}
}

// FuzzDecodeTargets: a targets column read from a database may be
// corrupt; decoding it never panics, and what it accepts encodes back to
// the same bytes.
func FuzzDecodeTargets(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{1, 2, 0xaa, 0xbb})
	f.Add([]byte{2, 1, 9, 1, 8})
	f.Add([]byte{1, 3, 9})
	f.Add([]byte{33})
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := storeimpl.DecodeTargets(b)
		if err != nil {
			return
		}
		if len(list) > store.MaxTargets {
			t.Fatalf("%d targets accepted", len(list))
		}
		for _, a := range list {
			if len(a) == 0 || len(a) > store.MaxAddr {
				t.Fatalf("address of %d bytes accepted", len(a))
			}
		}
		if len(b) > 0 && !bytes.Equal(storeimpl.EncodeTargets(list), b) {
			t.Fatalf("%x decodes to %v, which encodes to %x", b, list, storeimpl.EncodeTargets(list))
		}
	})
}

func TestCheckFrame(t *testing.T) {
	head := &storeimpl.Head{Frame: store.Addr{1}, Counter: 4}
	frame := func(counter uint64, prev byte) store.Meta {
		return store.Meta{Kind: store.KindFrame, Object: store.Addr{9}, Counter: counter, Prev: store.Addr{prev}}
	}
	tests := []struct {
		name string
		head *storeimpl.Head
		f    store.Meta
		want error
	}{
		{"no head", nil, frame(7, 3), nil},
		{"next", head, frame(5, 1), nil},
		{"next from elsewhere", head, frame(5, 2), store.ErrFork},
		{"same counter", head, frame(4, 0), store.ErrFork},
		{"older", head, frame(3, 0), store.ErrStale},
		{"gap", head, frame(6, 1), store.ErrGap},
	}
	for _, tt := range tests {
		err := storeimpl.CheckFrame(tt.head, tt.f)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
