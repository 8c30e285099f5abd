package hypernats_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/service"
)

// This file runs the examples of spec.md against a real server. See
// section 0 of spec.md for how an example is written and what is checked.

// specExample is one `nats` block of spec.md.
type specExample struct {
	line    int
	subject string
	header  nats.Header
	payload []byte
	replies []specReply
}

type specReply struct {
	header  []string // "Name: value" lines
	payload string   // nil payload is ""
}

func readSpec(t *testing.T) []*specExample {
	t.Helper()
	f, err := os.Open("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*specExample
	var cur *specExample
	var rep *specReply
	inBody, inReplyBody := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "```nats":
			cur = &specExample{line: n, header: nats.Header{}}
			inBody, inReplyBody, rep = false, false, nil
		case cur == nil:
		case line == "```":
			out = append(out, cur)
			cur = nil
		case line == ">" || strings.HasPrefix(line, "> "):
			text := strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
			switch {
			case cur.subject == "":
				cur.subject = text
			case line == ">":
				inBody = true
			case inBody:
				cur.payload = []byte(text)
			default:
				k, v, _ := strings.Cut(text, ": ")
				cur.header.Add(k, v)
			}
		case line == "< MSG":
			cur.replies = append(cur.replies, specReply{})
			rep = &cur.replies[len(cur.replies)-1]
			inReplyBody = false
		case line == "<":
			inReplyBody = true
		case strings.HasPrefix(line, "< ") && inReplyBody:
			rep.payload = line[2:]
		case strings.HasPrefix(line, "< "):
			rep.header = append(rep.header, line[2:])
		default:
			t.Fatalf("spec.md:%d: unexpected line %q", n, line)
		}
	}
	if len(out) == 0 {
		t.Fatal("no examples in spec.md")
	}
	return out
}

var logrefRE = regexp.MustCompile(`[0-9a-f]{16}`)

func TestSpecExamples(t *testing.T) {
	nc, _, _ := setup(t)
	for _, ex := range readSpec(t) {
		t.Run(fmt.Sprintf("line %d", ex.line), func(t *testing.T) {
			inbox := nc.NewInbox()
			sub, err := nc.SubscribeSync(inbox)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			msg := &nats.Msg{Subject: ex.subject, Reply: inbox, Data: ex.payload}
			if len(ex.header) > 0 {
				msg.Header = ex.header
			}
			if err := nc.PublishMsg(msg); err != nil {
				t.Fatal(err)
			}
			for i, want := range ex.replies {
				m, err := sub.NextMsg(5 * time.Second)
				if err != nil {
					t.Fatalf("reply %d: %v", i+1, err)
				}
				var got []string
				for k, vs := range m.Header {
					for _, v := range vs {
						got = append(got, k+": "+v)
					}
				}
				slices.Sort(got)
				wantH := slices.Sorted(slices.Values(want.header))
				if len(got) != len(wantH) {
					t.Errorf("reply %d: headers %q, want %q", i+1, got, wantH)
				}
				for j := range min(len(got), len(wantH)) {
					if got[j] != wantH[j] && !(strings.HasSuffix(wantH[j], ": *") && strings.HasPrefix(got[j], strings.TrimSuffix(wantH[j], "*"))) {
						t.Errorf("reply %d: header %q, want %q", i+1, got[j], wantH[j])
					}
				}
				body := logrefRE.ReplaceAllString(string(m.Data), "<logref>")
				if body != want.payload {
					t.Errorf("reply %d: payload\n%s\nwant\n%s", i+1, body, want.payload)
				}
			}
			if m, err := sub.NextMsg(50 * time.Millisecond); err == nil {
				t.Errorf("an extra reply: %v %q", m.Header, m.Data)
			}
		})
	}
}

// The table of codes in spec.md is service.Kind.HTTPStatus, kind by kind.
func TestSpecErrorCodes(t *testing.T) {
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "## 4. Errors")
	section, _, _ = strings.Cut(section, "```")
	codes := map[string]int{}
	for _, m := range regexp.MustCompile("`([a-z_]+)` \\| ([0-9]{3}) \\|").FindAllStringSubmatch(section, -1) {
		var n int
		fmt.Sscan(m[2], &n)
		codes[m[1]] = n
	}
	for k := service.KindOther; k <= service.KindBadFrame; k++ {
		if got, ok := codes[k.String()]; !ok || got != k.HTTPStatus() {
			t.Errorf("spec.md gives %s code %d, want %d", k, got, k.HTTPStatus())
		}
	}
}
