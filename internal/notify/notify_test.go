package notify_test

import (
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/internal/notify"
)

// Notify closes every channel taken before it and none taken after.
func TestNotify(t *testing.T) {
	var n notify.Notifier
	a, b := n.C(), n.C()
	n.Notify()
	for _, c := range []<-chan struct{}{a, b} {
		select {
		case <-c:
		case <-time.After(time.Second):
			t.Fatal("a channel taken before Notify is still open")
		}
	}
	c := n.C()
	select {
	case <-c:
		t.Fatal("a channel taken after Notify is closed")
	default:
	}
	n.Notify()
	<-c
}
