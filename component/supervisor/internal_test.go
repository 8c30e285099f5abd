package supervisor

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second}, // capped at max
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(100*time.Millisecond, time.Second, tt.n)
			if d < tt.min || d > tt.max {
				t.Fatalf("backoff #%d = %s, want %s to %s", tt.n, d, tt.min, tt.max)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff #%d: %d distinct waits in 200: no jitter", tt.n, len(seen))
		}
	}
}

func TestLogFormat(t *testing.T) {
	tests := []struct {
		name  string
		color bool
		text  string
		want  string
	}{
		{"plain", false, "hello", "Echo/0 | hello\n"},
		{"json piped", false, `{"level":"INFO","msg":"serving"}`, `{"process":"Echo/0","level":"INFO","msg":"serving"}` + "\n"},
		{"empty json", false, `{}`, `{"process":"Echo/0"}` + "\n"},
		{"not json", false, `{"broken`, "Echo/0 | {\"broken\n"},
		{"terminal", true, "hello", "\x1b[36mEcho/0 |\x1b[0m hello\n"},
		{"json on a terminal", true, `{"a":1}`, "\x1b[36mEcho/0 |\x1b[0m {\"a\":1}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newLogMux(nil, tt.color)
			m.add("Echo/0")
			if got := string(m.format(LogLine{Process: "Echo/0", Text: tt.text})); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
		})
	}
}
