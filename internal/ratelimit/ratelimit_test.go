package ratelimit_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/internal/ratelimit"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		rate  float64
		burst int
		at    []time.Duration // offsets of the events from t0
		want  []bool
	}{
		{"burst then refused", 10, 3, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"refilled at the rate", 10, 1, []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond}, []bool{true, false, true}},
		{"never over the burst", 100, 2, []time.Duration{0, 10 * time.Second, 10 * time.Second, 10 * time.Second}, []bool{true, true, true, false}},
		{"a clock going back takes nothing", 1, 1, []time.Duration{time.Second, 0, 500 * time.Millisecond}, []bool{true, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ratelimit.NewBucket(tt.rate, tt.burst)
			for i, d := range tt.at {
				ok, wait := b.Take(t0.Add(d))
				if ok != tt.want[i] {
					t.Errorf("event %d at %v: %v, want %v", i, d, ok, tt.want[i])
				}
				if !ok && (wait <= 0 || wait > time.Duration(float64(time.Second)/tt.rate)+time.Millisecond) {
					t.Errorf("event %d: refused with a wait of %v", i, wait)
				}
			}
		})
	}
}

func TestBucketWait(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := ratelimit.NewBucket(4, 1)
	b.Take(t0)
	ok, wait := b.Take(t0.Add(100 * time.Millisecond))
	if ok || wait != 150*time.Millisecond {
		t.Fatalf("Take = %v, %v; want false, 150ms", ok, wait)
	}
	if ok, _ := b.Take(t0.Add(100*time.Millisecond + wait)); !ok {
		t.Error("no token after the wait Take gave")
	}
}

// TestKeyed: keys have buckets of their own, full ones are forgotten,
// and past the most it holds new keys share one bucket.
func TestKeyed(t *testing.T) {
	t0 := time.Unix(1000, 0)
	k := ratelimit.NewKeyed(1, 1, 3)
	for i := range 3 {
		if ok, _ := k.Take(strconv.Itoa(i), t0); !ok {
			t.Fatalf("key %d refused its first event", i)
		}
	}
	if ok, _ := k.Take("0", t0); ok {
		t.Error("key 0 took a second event within its burst of one")
	}
	// Three keys held, none full: new keys share the overflow bucket.
	if ok, _ := k.Take("x", t0); !ok {
		t.Error("the first key over the most was refused")
	}
	if ok, _ := k.Take("y", t0); ok {
		t.Error("a second key over the most got a bucket of its own")
	}
	if n := k.Len(); n != 3 {
		t.Errorf("%d buckets held, want 3", n)
	}
	// Two seconds later every bucket is full again and forgotten.
	if ok, _ := k.Take("z", t0.Add(2*time.Second)); !ok {
		t.Error("a new key refused once the others refilled")
	}
	if n := k.Len(); n != 1 {
		t.Errorf("%d buckets held after the sweep, want 1", n)
	}
}
