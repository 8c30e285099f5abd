package supervisor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// LogLine is one line a process wrote.
type LogLine struct {
	Process string    // "Storage/1"
	Time    time.Time // when the supervisor read it
	Stream  string    // "stdout" or "stderr"
	Text    string    // without its newline
}

// maxLogLine bounds a line; longer ones are cut.
const maxLogLine = 64 << 10

// keptLines is how many lines of each process the supervisor keeps for
// its status (when FATAL) and for `glyph logs`.
const keptLines = 200

// logMux writes every process's lines to one output, each with the
// process's name as a prefix (in a colour of its own on a terminal), and
// keeps the last lines of each.
type logMux struct {
	mu      sync.Mutex // guards the fields below, and writes to out
	out     io.Writer
	color   bool
	width   int                     // of the widest name, for alignment
	colors  map[string]string       // process → its ANSI colour
	recent  map[string][]LogLine    // process → its last lines
	follows map[chan LogLine]string // followers → the process they follow ("" all)
}

var palette = []string{"36", "33", "32", "35", "34", "91", "96", "93", "92", "95"}

func newLogMux(out io.Writer, color bool) *logMux {
	return &logMux{out: out, color: color, colors: map[string]string{}, recent: map[string][]LogLine{}, follows: map[chan LogLine]string{}}
}

// add registers a process name, for alignment and its colour.
func (m *logMux) add(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.width = max(m.width, len(name))
	if _, ok := m.colors[name]; !ok {
		m.colors[name] = palette[len(m.colors)%len(palette)]
	}
}

// copy reads r line by line into the mux until it ends.
func (m *logMux) copy(name, stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			m.write(LogLine{Process: name, Time: time.Now(), Stream: stream, Text: string(line)})
		}
		if err != nil {
			return
		}
	}
}

// readLine reads a line without its newline, cutting it at maxLogLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) <= maxLogLine {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), err
	}
}

// write writes one line and keeps it.
func (m *logMux) write(l LogLine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := append(m.recent[l.Process], l)
	if len(kept) > keptLines {
		kept = kept[len(kept)-keptLines:]
	}
	m.recent[l.Process] = kept
	for ch, p := range m.follows {
		if p == "" || p == l.Process || processOf(l.Process) == p {
			select {
			case ch <- l:
			default: // a follower that does not keep up loses lines
			}
		}
	}
	if m.out == nil {
		return
	}
	m.out.Write(m.format(l))
}

// format is the line as written: "Storage/1 | text", padded and coloured
// on a terminal; a JSON object (slog's JSON handler) piped elsewhere gets
// the process as its first field instead, and stays one JSON object.
func (m *logMux) format(l LogLine) []byte {
	var b []byte
	text := []byte(l.Text)
	if !m.color && len(text) > 1 && text[0] == '{' && json.Valid(text) {
		b = append(b, `{"process":`...)
		b = strconv.AppendQuote(b, l.Process)
		if rest := bytes.TrimSpace(text[1:]); len(rest) > 0 && rest[0] != '}' {
			b = append(b, ',')
		}
		b = append(b, text[1:]...)
		return append(b, '\n')
	}
	if m.color {
		b = fmt.Appendf(b, "\x1b[%sm%-*s |\x1b[0m ", m.colors[l.Process], m.width, l.Process)
	} else {
		b = fmt.Appendf(b, "%-*s | ", m.width, l.Process)
	}
	b = append(b, text...)
	return append(b, '\n')
}

// processOf is the process of a replica's name: "Storage" of "Storage/1".
func processOf(name string) string {
	if i := bytes.LastIndexByte([]byte(name), '/'); i >= 0 {
		return name[:i]
	}
	return name
}

// last returns the last n lines of a process.
func (m *logMux) last(name string, n int) []LogLine {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.recent[name]
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	return append([]LogLine(nil), kept...)
}

// follow returns the kept lines of a process (a replica's name, a
// process's, or "" for all) and a channel of the lines that follow,
// until stop is called.
func (m *logMux) follow(name string) (past []LogLine, lines <-chan LogLine, stop func()) {
	ch := make(chan LogLine, 1024)
	m.mu.Lock()
	for p, kept := range m.recent {
		if name == "" || p == name || processOf(p) == name {
			past = append(past, kept...)
		}
	}
	m.follows[ch] = name
	m.mu.Unlock()
	sortLines(past)
	return past, ch, func() {
		m.mu.Lock()
		delete(m.follows, ch)
		m.mu.Unlock()
	}
}

func sortLines(ls []LogLine) {
	slices.SortStableFunc(ls, func(a, b LogLine) int { return a.Time.Compare(b.Time) })
}
