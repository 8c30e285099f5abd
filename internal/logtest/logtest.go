// Package logtest lets tests read what glyph logs: a logger that writes
// JSON lines into memory, read back as entries, and a way to make it
// slog's default for one test.
package logtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Log holds the lines a logger from New wrote. It is safe for concurrent
// use.
type Log struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

// New returns a logger that logs everything, debug included, as JSON
// lines into the returned Log.
func New() (*Log, *slog.Logger) {
	l := &Log{}
	return l, slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write implements io.Writer for the handler.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns what was logged.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// An Entry is one line: "level" and "msg", and the attributes by key,
// with JSON's types (numbers are float64).
type Entry map[string]any

// Entries returns the lines logged with message msg whose attributes
// have the given values, compared as fmt's %v prints them: Entries("glyph:
// request failed", "logref", ref).
func (l *Log) Entries(msg string, keyValues ...string) []Entry {
	var out []Entry
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		var e Entry
		if json.Unmarshal([]byte(line), &e) != nil || e["msg"] != msg {
			continue
		}
		match := true
		for i := 0; i+1 < len(keyValues); i += 2 {
			if v, ok := e[keyValues[i]]; !ok || fmt.Sprint(v) != keyValues[i+1] {
				match = false
			}
		}
		if match {
			out = append(out, e)
		}
	}
	return out
}

// SetDefault makes l slog's default logger until the test ends (see
// RestoreDefault). A test that calls it must not run in parallel.
func SetDefault(t testing.TB, l *slog.Logger) {
	RestoreDefault(t)
	slog.SetDefault(l)
}

// RestoreDefault puts back, when the test ends, slog's default logger and
// the output of package log as they are now: for a test of code that
// calls slog.SetDefault, which redirects package log's output and never
// restores it. A test that calls it must not run in parallel.
func RestoreDefault(t testing.TB) {
	prev, w, flags := slog.Default(), log.Writer(), log.Flags()
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(w)
		log.SetFlags(flags)
	})
}
