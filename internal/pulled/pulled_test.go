package pulled_test

import (
	"errors"
	"io"
	"iter"
	"testing"

	"github.com/glyph-ipc/glyph/internal/pulled"
	"github.com/glyph-ipc/glyph/service"
)

// items yields 1, 2, then fail (when set), and records that it stopped.
func items(fail error, stopped *bool) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		defer func() { *stopped = true }()
		for i := 1; i <= 2; i++ {
			if !yield(i, nil) {
				return
			}
		}
		if fail != nil {
			yield(0, fail)
		}
	}
}

func TestReceive(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		fail error
		end  error
	}{
		{"ends with EOF", nil, io.EOF},
		{"ends with the sequence's error", boom, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stopped bool
			s := pulled.New(items(tc.fail, &stopped))
			for want := 1; want <= 2; want++ {
				if v, err := s.Receive(); err != nil || v != want {
					t.Fatalf("Receive = %v, %v; want %d", v, err, want)
				}
			}
			if _, err := s.Receive(); !errors.Is(err, tc.end) {
				t.Fatalf("after the items: %v, want %v", err, tc.end)
			}
			s.Close(nil)
		})
	}
}

// TestCloseStops: closing before the end stops the sequence (its cleanup
// runs), and sending is refused as unsupported.
func TestCloseStops(t *testing.T) {
	var stopped bool
	s := pulled.New(items(nil, &stopped))
	if _, err := s.Receive(); err != nil {
		t.Fatal(err)
	}
	s.Close(nil)
	if !stopped {
		t.Fatal("the sequence did not stop on Close")
	}
	var e *service.Error
	if err := s.Send(1); !errors.As(err, &e) || e.Kind != service.KindUnsupported {
		t.Fatalf("Send = %v, want an unsupported error", err)
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
}
