package js_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

// jsCodec is a node process running test/crosscheck.js: a message in,
// its re-encoding or the decoder's error out, one line each.
type jsCodec struct {
	mu  sync.Mutex // guards the exchange of a line
	in  io.WriteCloser
	out *bufio.Reader
	cmd *exec.Cmd
}

var (
	jsCodecOnce sync.Once
	jsCodecProc *jsCodec
	jsCodecErr  error
)

// sharedJSCodec starts the process once per test process; it ends when
// its stdin closes, with the test process.
func sharedJSCodec(node []string) (*jsCodec, error) {
	jsCodecOnce.Do(func() {
		cmd := exec.Command(node[0], "test/crosscheck.js")
		in, err := cmd.StdinPipe()
		if err != nil {
			jsCodecErr = err
			return
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			jsCodecErr = err
			return
		}
		if err := cmd.Start(); err != nil {
			jsCodecErr = err
			return
		}
		jsCodecProc = &jsCodec{in: in, out: bufio.NewReaderSize(out, 1<<20), cmd: cmd}
	})
	return jsCodecProc, jsCodecErr
}

// roundTrip has the JavaScript codec decode msg and encode it again: the
// bytes, or the decoder's error message.
func (c *jsCodec) roundTrip(msg []byte) ([]byte, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintf(c.in, "%s\n", hex.EncodeToString(msg)); err != nil {
		return nil, "", fmt.Errorf("the node process is gone: %w", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return nil, "", fmt.Errorf("the node process is gone: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return nil, msg, nil
	}
	b, err := hex.DecodeString(line)
	return b, "", err
}

// hyperError is an error of package hyper's extensions, which the test
// binary registers and package wire then checks: the JavaScript decoder
// keeps every extension as it is.
var hyperError = regexp.MustCompile(`extension (link|form|input|resource|error|collection):`)

// FuzzJSDecode checks the JavaScript decoder against package wire's: on
// any input it answers (a crash or a hang would end the node process),
// it accepts what wire accepts and re-encodes it to the same canonical
// bytes, and it rejects what wire rejects (but for the checks wire makes
// of hyper's extensions).
func FuzzJSDecode(f *testing.F) {
	for _, s := range []string{
		"N;", "Li1;f0.5;u2:\xc3\xa9;b1:\x00;;", "Du1:a;Si1;i2;;u1:b;O;;", "d2012-08-12T13:14:15.123456Z;",
		"pP1Y2M3DT4H5M6.7S;", "Xu3:foo;Du1:a;N;;Li1;;;", "LB0:Du12:content-type;u1:a;;;;c0:2:aa;c0;",
		"i-000123456789012345678901234567890;", "f0x1.fffffffffffffp+1023;", "Si1;i+1;;", "u3:\xed\xa0\x80;",
	} {
		f.Add([]byte(s))
	}
	node := nodeCommand(f)
	js, err := sharedJSCodec(node)
	if err != nil {
		f.Fatalf("starting node test/crosscheck.js: %v", err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, jsErr, err := js.roundTrip(msg)
		if err != nil {
			t.Fatalf("input %q: %v", msg, err)
		}
		var v any
		goErr := wire.Unmarshal(msg, &v)
		switch {
		case goErr == nil:
			want, err := wire.Marshal(v)
			if err != nil {
				t.Skip() // (a value wire reads but cannot write back, such as a Period of mixed signs)
			}
			if jsErr != "" {
				t.Fatalf("input %q: wire decodes it, JavaScript fails: %s", msg, jsErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("input %q:\n wire re-encodes %q\n   JS re-encodes %q", msg, want, got)
			}
		case jsErr == "" && !hyperError.MatchString(goErr.Error()):
			t.Fatalf("input %q: wire fails (%v), JavaScript decodes it to %q", msg, goErr, got)
		}
	})
}
