package wire_test

import (
	"bytes"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

type reuseInner struct {
	A int
	B []string
}

type reuseRec struct {
	Name  string
	Tags  []string
	M     map[string]int
	P     *reuseInner
	In    reuseInner
	Arr   [2]reuseInner
	Any   any
	Bytes []byte
}

// Decoding into a slice that held earlier records gives exactly what
// decoding into a new slice gives: no field of an earlier record survives,
// whether the new dict lacks it, sets it to nil, or has the wrong type.
func TestReusedSliceDecodesAsFresh(t *testing.T) {
	msgs := []string{
		// full records
		"LDu4:Name;u1:a;u4:Tags;Lu1:x;u1:y;;u1:M;Du1:k;i1;;u1:P;Du1:A;i1;u1:B;Lu1:p;;;u2:In;Du1:A;i2;u1:B;Lu1:q;;;u3:Arr;LDu1:A;i3;;Du1:B;Lu1:r;;;;u3:Any;i9;u5:Bytes;b3:abc;;" +
			"Du4:Name;u1:b;u4:Tags;Lu1:z;;;;",
		// missing fields, nils, a shorter list
		"LDu4:Name;u1:c;;;",
		"LDu4:Tags;N;u1:M;N;u1:P;N;u2:In;N;u3:Arr;N;u3:Any;N;u5:Bytes;N;;Du4:Name;u1:d;u3:Arr;LD;D;;;;",
		// a type error in one element
		"LDu4:Name;i1;u4:Tags;Li1;;;Du4:Name;u1:e;;;",
		// nested structs partly given
		"LDu2:In;Du1:A;i5;;u3:Arr;LDu1:A;i6;;Du1:A;i7;;;;Du2:In;Du1:B;Lu1:s;u1:t;;;;;",
	}
	for i, first := range msgs {
		for j, second := range msgs {
			var reused []reuseRec
			wire.Unmarshal([]byte(first), &reused)
			reused = reused[:cap(reused)] // expose every earlier element
			errReused := wire.Unmarshal([]byte(second), &reused)
			var fresh []reuseRec
			errFresh := wire.Unmarshal([]byte(second), &fresh)
			if (errReused == nil) != (errFresh == nil) {
				t.Fatalf("%d then %d: errors differ: %v vs %v", i, j, errReused, errFresh)
			}
			if !reflect.DeepEqual(reused, fresh) {
				t.Errorf("%d then %d:\nreused %+v\nfresh  %+v", i, j, reused, fresh)
			}
		}
	}
}

// FuzzReusedDecode checks the reuse property on arbitrary pairs of
// messages: decoding b into a slice that held a decodes like decoding b
// into a new slice.
func FuzzReusedDecode(f *testing.F) {
	f.Add([]byte("LDu4:Name;u1:a;u4:Tags;Lu1:x;;;;"), []byte("LDu4:Name;i1;;;"))
	f.Add([]byte("LDu2:In;Du1:A;i5;;;;"), []byte("LDu2:In;N;u1:P;Du1:A;i1;;;;"))
	f.Add([]byte("LDu3:Arr;LD;Du1:B;Lu1:r;;;;;;"), []byte("LDu3:Arr;Li1;;;;"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var reused []reuseRec
		if wire.Unmarshal(a, &reused) != nil {
			return
		}
		reused = reused[:cap(reused)]
		errReused := wire.Unmarshal(b, &reused)
		var fresh []reuseRec
		errFresh := wire.Unmarshal(b, &fresh)
		if !onlyTypeErrors(errReused) || !onlyTypeErrors(errFresh) {
			return
		}
		root := int64(len(b) - len(bytes.TrimLeft(b, " \t\r\n\v")))
		if te, ok := errFresh.(*wire.UnmarshalTypeError); ok && te.Offset == root {
			return // the root did not fit: Unmarshal leaves any target as it was
		}
		if !reflect.DeepEqual(reused, fresh) {
			t.Fatalf("reused %+v\nfresh  %+v", reused, fresh)
		}
	})
}

func onlyTypeErrors(err error) bool {
	if err == nil {
		return true
	}
	_, ok := err.(*wire.UnmarshalTypeError)
	return ok
}

// A list is grown ahead of its items from an estimate, but never by more
// than 1 MiB of elements, whatever the rest of the input suggests.
func TestListPreallocationIsBounded(t *testing.T) {
	type big struct{ Pad [1024]byte }
	var msg struct {
		A []big
		B string
	}
	tail := strings.Repeat("x", 4<<20)
	data := []byte("Du1:A;LD;D;;u1:B;u" + strconv.Itoa(len(tail)) + ":" + tail + ";;")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := wire.Unmarshal(data, &msg); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(msg.A) != 2 || len(msg.B) != len(tail) {
		t.Fatalf("decoded %d items, %d bytes", len(msg.A), len(msg.B))
	}
	// The string costs 4 MiB; the list may cost up to 1 MiB more.
	if got := after.TotalAlloc - before.TotalAlloc; got > 6<<20 {
		t.Fatalf("allocated %d bytes", got)
	}
}
