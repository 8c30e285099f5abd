package peer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// This file runs the vectors of spec.md; its section 0 says what each
// kind of line asserts.

// specLine is one vector line and where it is.
type specLine struct {
	n    int
	text string
}

// specBlock is a fenced block of spec.md: its info string's words and
// its vector lines (comments and empty lines dropped).
type specBlock struct {
	info  []string
	start int
	lines []specLine
}

func specBlocks(t *testing.T, kind string) []specBlock {
	t.Helper()
	f, err := os.Open("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []specBlock
	var cur *specBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if cur != nil {
				if cur.info[0] == kind {
					blocks = append(blocks, *cur)
				}
				cur = nil
				continue
			}
			info := strings.Fields(strings.TrimPrefix(line, "```"))
			if len(info) == 0 {
				info = []string{""}
			}
			cur = &specBlock{info: info, start: n}
			continue
		}
		if cur != nil && line != "" && !strings.HasPrefix(line, "#") {
			cur.lines = append(cur.lines, specLine{n, line})
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("spec.md has no %s blocks", kind)
	}
	return blocks
}

// arrow splits "A => B" at its last arrow.
func arrow(t *testing.T, l specLine) (string, string) {
	t.Helper()
	i := strings.LastIndex(l.text, " => ")
	if i < 0 {
		t.Fatalf("spec.md:%d: no =>", l.n)
	}
	return l.text[:i], l.text[i+4:]
}

func unhex(t *testing.T, l specLine, s string) []byte {
	t.Helper()
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("spec.md:%d: bad hex: %v", l.n, err)
	}
	return b
}

type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }

func TestSpecFrames(t *testing.T) {
	for _, b := range specBlocks(t, "frames") {
		for _, l := range b.lines {
			kind, rest, _ := strings.Cut(l.text, " ")
			left, right := arrow(t, l)
			left = strings.TrimPrefix(left, kind+" ")
			if kind == "reject" {
				max, h, _ := strings.Cut(left, " ")
				n, _ := strconv.Atoi(max)
				fc := peer.NewStreamConn(rwc{bytes.NewReader(unhex(t, l, h)), io.Discard}, n)
				_, err := fc.ReadFrame(context.Background())
				if err == nil || err.Error() != right {
					t.Errorf("spec.md:%d: read error %v, want %q", l.n, err, right)
				}
				continue
			}
			_ = rest
			f := peer.Frame{Text: kind == "text"}
			if f.Text {
				f.Data = []byte(left)
			} else {
				f.Data = unhex(t, l, left)
			}
			want := unhex(t, l, right)
			var out bytes.Buffer
			if err := peer.NewStreamConn(rwc{nil, &out}, 0).WriteFrames(context.Background(), []peer.Frame{f}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("spec.md:%d: wrote %x, want %x", l.n, out.Bytes(), want)
			}
			rc := peer.NewStreamConn(rwc{bytes.NewReader(want), io.Discard}, 0)
			got, err := rc.ReadFrame(context.Background())
			if err != nil || got.Text != f.Text || !bytes.Equal(got.Data, f.Data) {
				t.Errorf("spec.md:%d: read %v %q, %v", l.n, got.Text, got.Data, err)
			}
			if _, err := rc.ReadFrame(context.Background()); err != io.EOF {
				t.Errorf("spec.md:%d: after the frame: %v", l.n, err)
			}
		}
	}
}

// specConfig reads a vector's OPTS token.
func specConfig(t *testing.T, l specLine, opts string) []peer.Option {
	var cfg []peer.Option
	if opts == "-" {
		return cfg
	}
	for _, o := range strings.Split(opts, "+") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "codecs":
			cfg = append(cfg, peer.WithCodecs(strings.Split(v, ",")...))
		case "baseline":
			cfg = append(cfg, peer.WithBaseline())
		case "window":
			n, _ := strconv.Atoi(v)
			cfg = append(cfg, peer.WithStreamWindow(n))
		case "connwindow":
			n, _ := strconv.Atoi(v)
			cfg = append(cfg, peer.WithConnWindow(n))
		case "streams":
			n, _ := strconv.Atoi(v)
			cfg = append(cfg, peer.WithMaxStreams(n))
		default:
			t.Fatalf("spec.md:%d: unknown option %q", l.n, o)
		}
	}
	return cfg
}

func readText(t *testing.T, fc peer.FrameConn) string {
	t.Helper()
	f, err := fc.ReadFrame(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Text {
		t.Errorf("handshake frame %q is not text", f.Data)
	}
	return string(f.Data)
}

func writeText(t *testing.T, fc peer.FrameConn, s string) {
	t.Helper()
	if err := fc.WriteFrames(ctxTimeout(t, 5*time.Second), []peer.Frame{{Data: []byte(s), Text: true}}); err != nil {
		t.Fatal(err)
	}
}

func TestSpecHandshake(t *testing.T) {
	for _, b := range specBlocks(t, "handshake") {
		for _, l := range b.lines {
			left, want := arrow(t, l)
			f := strings.SplitN(left, " ", 3)
			cfg := specConfig(t, l, f[1])
			glyph, raw := peer.Pipe()
			ctx := ctxTimeout(t, 5*time.Second)
			switch f[0] {
			case "greet":
				go peer.Client(ctx, glyph, cfg...)
				if got := readText(t, raw); got != want {
					t.Errorf("spec.md:%d: greeting\n%s\nwant\n%s", l.n, got, want)
				}
			case "answer":
				go peer.Server(ctx, glyph, cfg...)
				writeText(t, raw, f[2])
				if got := readText(t, raw); got != want {
					t.Errorf("spec.md:%d: answer\n%s\nwant\n%s", l.n, got, want)
				}
			case "settle":
				go func() {
					raw.ReadFrame(ctx)
					raw.WriteFrames(ctx, []peer.Frame{{Data: []byte(f[2]), Text: true}})
				}()
				c, err := peer.Client(ctx, glyph, cfg...)
				var got string
				if err != nil {
					got = "error " + service.KindOf(err).String()
				} else {
					ext := strings.Join(c.Extensions(), ",")
					if ext == "" {
						ext = "-"
					}
					got = "codec=" + c.Codec() + " ext=" + ext
					c.Close()
				}
				if got != want {
					t.Errorf("spec.md:%d: settled %s, want %s (%v)", l.n, got, want, err)
				}
			default:
				t.Fatalf("spec.md:%d: unknown vector %q", l.n, f[0])
			}
			glyph.Close()
			raw.Close()
		}
	}
}

func codec(t *testing.T, name string) peer.Codec {
	c, ok := peer.CodecByName(name)
	if !ok {
		t.Fatalf("no codec %q", name)
	}
	return c
}

// fromJSON decodes an envelope written as JSON in spec.md.
func fromJSON(t *testing.T, l specLine, s string) *peer.Envelope {
	t.Helper()
	var env peer.Envelope
	if err := codec(t, "json").Unmarshal([]byte(s), &env); err != nil {
		t.Fatalf("spec.md:%d: %v", l.n, err)
	}
	return &env
}

func marshal(t *testing.T, l specLine, c peer.Codec, env *peer.Envelope) []byte {
	t.Helper()
	b, err := c.Marshal(env)
	if err != nil {
		t.Fatalf("spec.md:%d: %s: %v", l.n, c.Name(), err)
	}
	return b
}

func TestSpecEnvelopes(t *testing.T) {
	js := codec(t, "json")
	for _, b := range specBlocks(t, "envelopes") {
		for _, l := range b.lines {
			kind, rest, _ := strings.Cut(l.text, " ")
			switch kind {
			case "json":
				in, want := rest, rest
				if strings.Contains(rest, " => ") {
					in, want = arrow(t, specLine{l.n, rest})
				}
				if got := marshal(t, l, js, fromJSON(t, l, in)); string(got) != want {
					t.Errorf("spec.md:%d: wrote\n%s\nwant\n%s", l.n, got, want)
				}
			case "msgpack", "glyph":
				in, out := arrow(t, specLine{l.n, rest})
				c := codec(t, kind)
				want := []byte(out)
				if kind == "msgpack" {
					want = unhex(t, l, out)
				}
				env := fromJSON(t, l, in)
				if got := marshal(t, l, c, env); !bytes.Equal(got, want) {
					t.Errorf("spec.md:%d: %s wrote\n%x\nwant\n%x", l.n, kind, got, want)
				}
				var back peer.Envelope
				if err := c.Unmarshal(want, &back); err != nil {
					t.Fatalf("spec.md:%d: %s: %v", l.n, kind, err)
				}
				if got := marshal(t, l, js, &back); string(got) != in {
					t.Errorf("spec.md:%d: %s read back as\n%s", l.n, kind, got)
				}
			case "bad":
				f := strings.SplitN(rest, " ", 3)
				data, msg := arrow(t, specLine{l.n, f[2]})
				c := codec(t, f[0])
				in := []byte(data)
				if f[0] == "msgpack" {
					in = unhex(t, l, data)
				}
				var env peer.Envelope
				err := c.Unmarshal(in, &env)
				var se *service.Error
				if !errors.As(err, &se) || se.Kind.String() != f[1] || se.Message != msg {
					t.Errorf("spec.md:%d: error %#v, want %s %q", l.n, err, f[1], msg)
				}
			default:
				t.Fatalf("spec.md:%d: unknown vector %q", l.n, kind)
			}
		}
	}
}

func TestSpecCodes(t *testing.T) {
	seen := 0
	for _, b := range specBlocks(t, "codes") {
		for _, l := range b.lines {
			code, name, _ := strings.Cut(l.text, " ")
			n, _ := strconv.Atoi(code)
			k, ok := peer.ErrorKind(n)
			if !ok || k.String() != name || peer.ErrorCode(k) != n {
				t.Errorf("spec.md:%d: code %d ↔ %v (%v), want %s", l.n, n, k, ok, name)
			}
			seen++
		}
	}
	// Every kind has a code.
	for k := service.Kind(0); k.String() != "kind("+strconv.Itoa(int(k))+")"; k++ {
		if c := peer.ErrorCode(k); c == 2 && k != service.KindOther {
			t.Errorf("kind %v has no code", k)
		}
	}
	if seen != 16 {
		t.Errorf("%d codes in spec.md", seen)
	}
	if _, ok := peer.ErrorKind(1000); ok {
		t.Error("code 1000 is known")
	}
}
