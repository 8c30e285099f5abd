package supervisor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/supervisor"
)

const echoAndRelay = `
version: 1
components:
  Echo:
    binary: BINARY
    replicas: 2
    restart: {backoff: 10ms, stable: 50ms}
  Relay:
    binary: BINARY
    transport: tcp
    uses: [Echo]
    restart: {backoff: 10ms, stable: 50ms}
`

func TestRunAndCall(t *testing.T) {
	s, out := start(t, echoAndRelay)
	r := router(t, s, s.Keyring(), map[string]component.Route{"Relay": {}})
	var relay struct {
		Relay func(ctx context.Context, s string) (string, error)
	}
	ctx := context.Background()
	if err := r.Bind(ctx, "Relay", &relay); err != nil {
		t.Fatal(err)
	}
	got, err := relay.Relay(ctx, "hi")
	if err != nil || got != "relayed hi" {
		t.Fatalf("Relay = %q, %v", got, err)
	}
	sts := s.Status()
	if len(sts) != 3 || sts[0].Name != "Echo/0" || sts[1].Name != "Echo/1" || sts[2].Name != "Relay" {
		t.Fatalf("status %+v", sts)
	}
	for _, st := range sts {
		if !st.Ready || st.Pid == 0 || len(st.Addresses) != 1 {
			t.Errorf("%s: %+v", st.Name, st)
		}
	}
	waitFor(t, 2*time.Second, "every process RUNNING", func() bool {
		for _, st := range s.Status() {
			if st.State != supervisor.StateRunning {
				return false
			}
		}
		return true
	})
	// slog's JSON lines pass through, with the process first.
	waitFor(t, 2*time.Second, "the children's log lines", func() bool {
		return strings.Contains(out.String(), `{"process":"Relay","level":"INFO","msg":"serving","parts":["Relay"]}`)
	})
}
