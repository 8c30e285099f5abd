package plain

import (
	"strings"
	"testing"
)

func TestIs(t *testing.T) {
	deep := any(int64(1))
	for range 5 {
		deep = []any{deep}
	}
	long := make([]any, 65)
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"scalars", []any{nil, true, 1, int64(2), 1.5, "s", []byte("b")}, true},
		{"string map", map[string]any{"a": []any{int64(1)}}, true},
		{"other map", map[any]any{"a": 1}, false},
		{"other type", strings.NewReader(""), false},
		{"too deep", deep, false},
		{"too long", long, false},
	}
	for _, tt := range tests {
		if got := Is(tt.v); got != tt.want {
			t.Errorf("%s: Is = %v, want %v", tt.name, got, tt.want)
		}
	}
}
