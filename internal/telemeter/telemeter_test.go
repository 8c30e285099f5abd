package telemeter_test

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/telemeter"
)

func TestParseProc(t *testing.T) {
	stat := []struct {
		name        string
		in          string
		busy, total uint64
		ok          bool
	}{
		{"linux", "cpu  10 1 5 80 4 0 0 0 0 0\ncpu0 1 2 3 4\n", 16, 100, true},
		{"short", "cpu 1 2 3\n", 0, 0, false},
		{"not cpu", "intr 1 2 3 4 5\n", 0, 0, false},
		{"not a number", "cpu 1 2 x 4 5\n", 0, 0, false},
	}
	for _, tc := range stat {
		t.Run("stat/"+tc.name, func(t *testing.T) {
			busy, total, err := telemeter.CPUTimes([]byte(tc.in))
			if (err == nil) != tc.ok || busy != tc.busy || total != tc.total {
				t.Fatalf("%d/%d, %v", busy, total, err)
			}
		})
	}
	total, avail, err := telemeter.ParseMeminfo([]byte("MemTotal:       16384 kB\nMemFree: 1 kB\nMemAvailable:    4096 kB\n"))
	if err != nil || total != 16384<<10 || avail != 4096<<10 {
		t.Fatalf("meminfo %d %d %v", total, avail, err)
	}
	if _, _, err := telemeter.ParseMeminfo([]byte("MemFree: 1 kB\n")); err == nil {
		t.Fatal("meminfo without MemTotal")
	}
	if l, err := telemeter.ParseLoadavg([]byte("0.52 0.40 0.30 1/200 1234\n")); err != nil || l != 0.52 {
		t.Fatalf("loadavg %v %v", l, err)
	}
	if _, err := telemeter.ParseLoadavg([]byte("-1\n")); err == nil {
		t.Fatal("a negative load")
	}
}

func TestSampler(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc: run on Linux")
	}
	s := telemeter.NewSampler()
	st, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if st.MemTotal == 0 || st.MemUsed > st.MemTotal || st.CPU < 0 || st.CPU > 1 {
		t.Fatalf("%+v", st)
	}
}

func FuzzParseProc(f *testing.F) {
	f.Add([]byte("cpu  10 1 5 80 4 0 0 0 0 0\n"))
	f.Add([]byte("MemTotal: 1 kB\nMemAvailable: 99999999999999999 kB\n"))
	f.Add([]byte("0.52 0.40 0.30 1/200 1234\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if busy, total, err := telemeter.CPUTimes(data); err == nil && busy > total {
			t.Fatalf("busy %d over total %d", busy, total)
		}
		if total, avail, err := telemeter.ParseMeminfo(data); err == nil && avail > total {
			t.Fatal("more available than total")
		}
		telemeter.ParseLoadavg(data)
	})
}

// The demo's transcript, checked step by step.
func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := telemeter.RunDemo(context.Background(), &out, true); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"remote: a persistence server at ws://127.0.0.1:",
		"telemeter: a daemon with its own account, identity ",
		"monitor: shared a settings object (interval 200ms) and a pairing object with the telemeter",
		"telemeter: paired with ",
		"telemeter: interval now 200ms",
		"monitor: the telemeter shared its status object",
		"telemeter: interval now 100ms",
		"telemeter: ignored a pairing from ",
		"demo: ok",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out.String())
		}
	}
	// The first statuses may come before the monitor watches; the demo
	// waits for three more before and three after the interval changed.
	if n := len(regexp.MustCompile(`(?m)^monitor: .* #[0-9]+: cpu [0-9.]+%, memory `).FindAllString(out.String(), -1)); n < 6 {
		t.Errorf("%d statuses in the transcript, want at least 6:\n%s", n, out.String())
	}
}
