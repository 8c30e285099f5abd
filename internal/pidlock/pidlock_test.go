package pidlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/pidlock"
)

// A second Lock is refused naming the holder, Holder finds it, and the
// lock is free again once the file is closed.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	if _, err := pidlock.Holder(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Holder of no lock file = %v, want ErrNotExist", err)
	}
	f, err := pidlock.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pidlock.Lock(path)
	var held *pidlock.HeldError
	if !errors.As(err, &held) || !errors.Is(err, pidlock.ErrHeld) || held.PID != os.Getpid() {
		t.Fatalf("second Lock = %v, want a HeldError naming this process", err)
	}
	if !strings.HasSuffix(held.Holder(), "(this one)") {
		t.Errorf("Holder() = %q", held.Holder())
	}
	if pid, err := pidlock.Holder(path); err != nil || pid != os.Getpid() {
		t.Errorf("Holder = %d, %v; want %d", pid, err, os.Getpid())
	}
	f.Close()
	if _, err := pidlock.Holder(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Holder after Close = %v, want ErrNotExist", err)
	}
	f, err = pidlock.Lock(path)
	if err != nil {
		t.Fatalf("Lock after Close: %v", err)
	}
	f.Close()
}
