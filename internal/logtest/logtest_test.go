package logtest_test

import (
	"sync/atomic"
	"testing"

	"github.com/glyph-ipc/glyph/internal/logtest"
)

// TestCounter counts the lines of its message, whatever their level and
// attributes, and no other.
func TestCounter(t *testing.T) {
	var n atomic.Int64
	l := logtest.Counter(&n, "counted")
	l.Info("counted", "a", 1)
	l.With("b", 2).Debug("counted")
	l.WithGroup("g").Warn("counted")
	l.Info("other")
	if n.Load() != 3 {
		t.Errorf("counted %d lines, want 3", n.Load())
	}
}
