package record_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// escape writes b as a bytes token of spec.md: printable ASCII but space
// and backslash as itself, every other byte as \xNN.
func escape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c > ' ' && c <= '~' && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}

// unescape reads a bytes token of spec.md.
func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+3 >= len(s) || s[i+1] != 'x' {
			return nil, fmt.Errorf("bad escape at %d", i)
		}
		v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
		if err != nil {
			return nil, err
		}
		out = append(out, byte(v))
		i += 3
	}
	return out, nil
}

// TestSpecExamples checks every line of spec.md's `records` blocks, NAME
// then the bytes of the vector NAME, against testdata/vectors.txt; with
// -update it rewrites those lines from the vectors.
func TestSpecExamples(t *testing.T) {
	vectors, _ := readVectors(t)
	text, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	in, seen := false, 0
	for i, line := range lines {
		switch {
		case line == "```records":
			in = true
		case in && line == "```":
			in = false
		case in && line != "":
			name, token, _ := strings.Cut(line, " ")
			want, err := hex.DecodeString(vectors[name])
			if err != nil || len(want) == 0 {
				t.Fatalf("spec.md names vector %q, which testdata/vectors.txt lacks", name)
			}
			seen++
			if *update {
				lines[i] = name + " " + escape(want)
				continue
			}
			got, err := unescape(token)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("spec.md's %s differs from the vector (go test -update rewrites it)", name)
			}
		}
	}
	if seen == 0 {
		t.Fatal("spec.md has no records block")
	}
	if *update {
		if err := os.WriteFile("spec.md", []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
