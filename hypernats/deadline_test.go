package hypernats

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDeadlineCtx checks that a call's lazy deadline context ends as
// context.WithDeadline's would: at its deadline, with its parent, or when
// canceled, whether Done was asked for before or not.
func TestDeadlineCtx(t *testing.T) {
	type key struct{}
	tests := []struct {
		name      string
		in        time.Duration // deadline from now
		doneFirst bool          // ask for Done before it ends
		end       func(cancelParent, cancel context.CancelFunc)
		want      error
	}{
		{"deadline, Done armed", 20 * time.Millisecond, true, func(_, _ context.CancelFunc) {}, context.DeadlineExceeded},
		{"deadline, Err only", 20 * time.Millisecond, false, func(_, _ context.CancelFunc) {}, context.DeadlineExceeded},
		{"past deadline", -time.Second, true, func(_, _ context.CancelFunc) {}, context.DeadlineExceeded},
		{"parent canceled, Done armed", time.Hour, true, func(p, _ context.CancelFunc) { p() }, context.Canceled},
		{"parent canceled, Err only", time.Hour, false, func(p, _ context.CancelFunc) { p() }, context.Canceled},
		{"canceled, Done armed", time.Hour, true, func(_, c context.CancelFunc) { c() }, context.Canceled},
		{"canceled, Err only", time.Hour, false, func(_, c context.CancelFunc) { c() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancelParent := context.WithCancel(context.Background())
			defer cancelParent()
			values := context.WithValue(context.WithoutCancel(parent), key{}, "v")
			d := time.Now().Add(tt.in)
			ctx := withDeadline(values, parent, d)
			cancel := context.CancelFunc(ctx.cancel)
			defer cancel()
			if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
				t.Fatalf("Deadline() = %v, %v; want %v", got, ok, d)
			}
			if ctx.Value(key{}) != "v" {
				t.Fatal("the context lost its values")
			}
			if tt.in > 0 && ctx.Err() != nil {
				t.Fatalf("Err() = %v before the context ended", ctx.Err())
			}
			var done <-chan struct{}
			if tt.doneFirst {
				done = ctx.Done()
			}
			tt.end(cancelParent, cancel)
			if done != nil {
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Done was not closed")
				}
			} else {
				for ctx.Err() == nil && time.Now().Before(d.Add(10*time.Second)) {
					time.Sleep(time.Millisecond)
				}
				select {
				case <-ctx.Done():
				default:
					t.Fatal("Done asked after the end is not closed")
				}
			}
			if err := ctx.Err(); !errors.Is(err, tt.want) {
				t.Fatalf("Err() = %v, want %v", err, tt.want)
			}
			if err := context.Cause(ctx); !errors.Is(err, tt.want) {
				t.Fatalf("Cause() = %v, want %v", err, tt.want)
			}
			child, stop := context.WithCancel(ctx)
			defer stop()
			select {
			case <-child.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("a child of the ended context did not end")
			}
		})
	}
}
