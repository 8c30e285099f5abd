package hyperhttp_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/intercept/bearer"
	"github.com/glyph-ipc/glyph/service"
)

// This file runs the examples of spec.md against a real server. See
// section 0 of spec.md for how an example is written and what is checked.

// specToken is the one bearer token the servers of `http bearer` blocks
// know.
const specToken = "s3cret"

// specStateKey is the state key of the servers of `http state-key` blocks.
const specStateKey = "spec key"

// specConfig is the configuration of the servers the examples run
// against, by the options of their block.
func specConfig(opts []string) ([]hyperhttp.Option, []service.Option, error) {
	cfg := []hyperhttp.Option{hyperhttp.WithMaxRequestBytes(1024), hyperhttp.WithMaxBlobBytes(4096)}
	var svcOpts []service.Option
	for _, o := range opts {
		switch o {
		case "blobs-as-glyph":
			cfg = append(cfg, hyperhttp.WithBlobsAsGlyph())
		case "state-key":
			svcOpts = append(svcOpts, service.WithStateKey([]byte(specStateKey)))
		case "shared-cache":
			cfg = append(cfg, hyperhttp.WithSharedCache(time.Minute))
		case "rate-limit":
			cfg = append(cfg, hyperhttp.WithRateLimit(0.001, 1))
		case "bearer":
			svcOpts = append(svcOpts, service.WithInterceptors(bearer.Server(bearer.Static(map[string]string{specToken: "ada"}))))
		default:
			return cfg, nil, fmt.Errorf("unknown option %q", o)
		}
	}
	return cfg, svcOpts, nil
}

// specExchange is one `http` block of spec.md: a request and the response
// it must get.
type specExchange struct {
	line       int      // line of the opening fence
	opts       []string // words after "http" in the info string
	method     string
	target     string
	reqHeader  http.Header
	reqBody    []byte
	status     int
	respHeader []string // "Name: value" lines; a value of * matches any
	respBody   [][]byte // the body's pieces; nil stands for a logref
}

func (x *specExchange) String() string {
	return fmt.Sprintf("spec.md:%d %s %s", x.line, x.method, x.target)
}

func TestSpecExamples(t *testing.T) {
	exchanges := specRead(t, "spec.md", "http")
	if len(exchanges) < 30 {
		t.Fatalf("spec.md has %d examples; the parser probably missed some", len(exchanges))
	}
	servers := map[string]*server{}
	for _, x := range exchanges {
		key := strings.Join(x.opts, " ")
		srv := servers[key]
		if srv == nil {
			cfg, svcOpts, err := specConfig(x.opts)
			if err != nil {
				t.Fatalf("%v: %v", x, err)
			}
			srv = newTestServer(t, "h1", cfg, svcOpts...)
			servers[key] = srv
		}
		t.Run(fmt.Sprintf("%d_%s_%s", x.line, x.method, x.target), func(t *testing.T) {
			specRun(t, srv, x)
		})
	}
	t.Logf("%d examples", len(exchanges))
}

func specRun(t *testing.T, srv *server, x *specExchange) {
	var body io.Reader
	if x.reqBody != nil {
		b := x.reqBody
		if x.reqHeader.Get("Content-Encoding") == "gzip" {
			b = gz(b)
		}
		body = bytes.NewReader(b)
	}
	r := srv.do(t, x.method, x.target, x.reqHeader, body)
	got := plainBody(t, r)
	var gotHeader []string
	for k, vs := range r.header {
		if k == "Date" {
			continue
		}
		for _, v := range vs {
			gotHeader = append(gotHeader, k+": "+v)
		}
	}
	slices.Sort(gotHeader)
	want := slices.Clone(x.respHeader)
	for i, h := range want {
		if name, ok := strings.CutSuffix(h, ": *"); ok {
			for _, g := range gotHeader {
				if strings.HasPrefix(g, name+": ") {
					want[i] = g
				}
			}
		}
	}
	slices.Sort(want)
	ok := r.status == x.status && slices.Equal(gotHeader, want) && specMatch(x.respBody, got)
	if !ok {
		t.Errorf("%v: the response differs.\ngot:\n=> %d\n%s\n\n%s\nwant:\n=> %d\n%s\n\n%s",
			x, r.status, strings.Join(gotHeader, "\n"), specEscape(got),
			x.status, strings.Join(x.respHeader, "\n"), specPieces(x.respBody))
	}
}

// specRead parses the blocks of a spec page whose info string starts
// with kind (`http`, or `html-page` for section 11.4), each an exchange.
func specRead(t *testing.T, name, kind string) []*specExchange {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out   []*specExchange
		block []string
		start int
		opts  []string
		in    bool
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "```"+kind):
			words := strings.Fields(strings.TrimPrefix(line, "```"))
			if words[0] != kind {
				continue
			}
			in, start, opts, block = true, n, words[1:], nil
		case in && line == "```":
			in = false
			x, err := specParse(start, opts, block)
			if err != nil {
				t.Fatalf("%s:%d: %v", name, start, err)
			}
			out = append(out, x)
		case in:
			block = append(block, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if in {
		t.Fatalf("%s:%d: unterminated block", name, start)
	}
	return out
}

// specParse parses the lines of one block.
func specParse(line int, opts []string, lines []string) (*specExchange, error) {
	x := &specExchange{line: line, opts: opts, reqHeader: http.Header{}}
	if len(lines) == 0 {
		return nil, fmt.Errorf("empty block")
	}
	method, target, ok := strings.Cut(lines[0], " ")
	if !ok || method == "" || !strings.HasPrefix(target, "/") {
		return nil, fmt.Errorf("the first line %q is not METHOD /target", lines[0])
	}
	x.method, x.target = method, target
	arrow := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "=> ") })
	if arrow < 0 {
		return nil, fmt.Errorf("no `=> STATUS` line")
	}
	reqHeads, reqBody, err := specSplit(lines[1:arrow])
	if err != nil {
		return nil, err
	}
	for _, h := range reqHeads {
		k, v, _ := strings.Cut(h, ": ")
		x.reqHeader.Add(k, v)
	}
	if reqBody != nil {
		b, err := specBytes(strings.Join(reqBody, ""), false)
		if err != nil {
			return nil, err
		}
		x.reqBody = bytes.Join(b, nil)
	}
	if x.status, err = strconv.Atoi(strings.TrimPrefix(lines[arrow], "=> ")); err != nil {
		return nil, fmt.Errorf("bad status line %q", lines[arrow])
	}
	respHeads, respBody, err := specSplit(lines[arrow+1:])
	if err != nil {
		return nil, err
	}
	for _, h := range respHeads {
		k, v, _ := strings.Cut(h, ": ")
		x.respHeader = append(x.respHeader, http.CanonicalHeaderKey(k)+": "+v)
	}
	if x.respBody, err = specBytes(strings.Join(respBody, ""), true); err != nil {
		return nil, err
	}
	return x, nil
}

// specSplit splits header lines from body lines at the first empty line.
// Body is nil when there is no empty line.
func specSplit(lines []string) (heads, body []string, err error) {
	for i, l := range lines {
		if l == "" {
			return lines[:i], append([]string{}, lines[i+1:]...), nil
		}
		if !strings.Contains(l, ": ") {
			return nil, nil, fmt.Errorf("header line %q has no \": \"", l)
		}
	}
	return lines, nil, nil
}

// specBytes decodes the escapes of a body (section 0 of spec.md) into
// literal pieces; a nil piece stands for \L, a logref, which only a
// response body (logref true) may hold.
func specBytes(s string, logref bool) ([][]byte, error) {
	var out [][]byte
	var cur []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			cur = append(cur, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("%q ends in a backslash", s)
		}
		i++
		switch s[i] {
		case '\\':
			cur = append(cur, '\\')
		case 'n':
			cur = append(cur, '\n')
		case 'r':
			cur = append(cur, '\r')
		case 't':
			cur = append(cur, '\t')
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("short \\x escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad \\x escape in %q", s)
			}
			cur = append(cur, byte(v))
			i += 2
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated \\{N:text} in %q", s)
			}
			count, text, ok := strings.Cut(s[i+1:i+end], ":")
			n, err := strconv.Atoi(count)
			if !ok || err != nil || n < 0 {
				return nil, fmt.Errorf("bad \\{N:text} in %q", s)
			}
			inner, err := specBytes(text, false)
			if err != nil {
				return nil, err
			}
			cur = append(cur, bytes.Repeat(bytes.Join(inner, nil), n)...)
			i += end
		case 'L':
			if !logref {
				return nil, fmt.Errorf("\\L in a request body")
			}
			out = append(out, append([]byte{}, cur...), nil)
			cur = nil
		default:
			return nil, fmt.Errorf("unknown escape \\%c in %q", s[i], s)
		}
	}
	if cur == nil {
		cur = []byte{}
	}
	return append(out, cur), nil
}

// specMatch reports whether body is the pieces of a response body, each
// nil piece matching a logref (16 lowercase hex digits).
func specMatch(pieces [][]byte, body []byte) bool {
	for _, p := range pieces {
		if p == nil {
			if len(body) < 16 || strings.Trim(string(body[:16]), "0123456789abcdef") != "" {
				return false
			}
			body = body[16:]
			continue
		}
		if !bytes.HasPrefix(body, p) {
			return false
		}
		body = body[len(p):]
	}
	return len(body) == 0
}

// specPieces writes the pieces of an expected body back as spec.md does.
func specPieces(pieces [][]byte) string {
	var out strings.Builder
	for _, p := range pieces {
		if p == nil {
			out.WriteString(`\L`)
		} else {
			out.WriteString(specEscape(p))
		}
	}
	return out.String()
}

// specEscape writes a body as spec.md would, for failure messages.
func specEscape(b []byte) string {
	var out strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			out.WriteString(`\\`)
		case c == '\n':
			out.WriteString(`\n`)
		case c >= ' ' && c <= '~':
			out.WriteByte(c)
		default:
			fmt.Fprintf(&out, `\x%02x`, c)
		}
	}
	return out.String()
}
