package component_test

import (
	"testing"

	"github.com/glyph-ipc/glyph/component/componenttest"
)

// TestConformance runs the component conformance suite over every
// transport of this module.
func TestConformance(t *testing.T) {
	transports := []struct {
		name string
		tr   componenttest.Transport
	}{
		{"inproc", componenttest.InProcess(true)},
		{"inproc without copies", componenttest.InProcess(false)},
		{"http", componenttest.HTTP()},
		{"http stack in memory", componenttest.InMemoryHTTP()},
		{"ws", componenttest.Peer("ws")},
		{"tcp", componenttest.Peer("tcp")},
		{"unix", componenttest.Peer("unix")},
	}
	for _, tt := range transports {
		t.Run(tt.name, func(t *testing.T) { componenttest.Run(t, tt.tr) })
	}
}
