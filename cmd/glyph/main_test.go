package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/wire"
)

// glyph runs the command line args with stdin and returns what it wrote
// and its exit status. glyph demo sets slog's default logger to its
// stderr: the default is put back when the test ends.
func glyph(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	logtest.RestoreDefault(t)
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestFmtCanonicalises(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"whitespace and unsorted dict", "D u1:b; i+0007;\n u1:a; L i1; ; ;\n", "Du1:a;Li1;;u1:b;i7;;"},
		{"leading zeros and plus sign", "i+0007;", "i7;"},
		{"negative zero integer", "i-0;", "i0;"},
		{"dict with integer keys", "Di3;i4;i1;i2;;", "Di1;i2;i3;i4;;"},
		{"set", "S i3; i1; i2; ;", "Si1;i2;i3;;"},
		{"ordered dict keeps its order", "O u1:b; i1; u1:a; i2; ;", "Ou1:b;i1;u1:a;i2;;"},
		{"explicit empty lengths", "Lu0:;b0:;;", "Lu;b;;"},
		{"decimal float", "f0.5;", "f0x1p-01;"},
		{"named float", "fInfinity;", "finf;"},
		{"datetime fraction", "d1970-01-01T00:00:00Z;", "d1970-01-01T00:00:00.000000Z;"},
		{"short period", "pP3DT2H;", "pP0Y0M3DT2H0M0S;"},
		{"unicode to NFC", "u3:e\xcc\x81;", "u2:\xc3\xa9;"},
		{"extension with whitespace", "X u4:link; D u3:url; u4:/foo; u6:method; u3:GET; ; N; ;", "Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;"},
		{"whitespace around the message", " \t\r\n\vN; \n", "N;"},
		// Known extensions pass through as they are: fmt does not add a
		// form's default method, nor turn ordered attributes into a dict,
		// nor reject what the hyper package would.
		{"form without method", "Xu4:form;Du3:url;u4:/foo;u6:values;L;;N;;", "Xu4:form;Du3:url;u4:/foo;u6:values;L;;N;;"},
		{"resource with ordered attrs", "Xu8:resource;Ou4:name;u1:T;;D;;", "Xu8:resource;Ou4:name;u1:T;;D;;"},
		{"link with another method", "Xu4:link;Du6:method;u4:POST;u3:url;u1:x;;N;;", "Xu4:link;Du6:method;u4:POST;u3:url;u1:x;;N;;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, tt.in, "fmt")
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if out != tt.want {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
}

func TestFmtPassesBlobsThrough(t *testing.T) {
	// Two blobs whose chunks interleave come out one after the other.
	in := "L B0:Du12:content-type;u1:a;;; B1:Du12:content-type;u1:b;;; ;\nc1:2:bb; c0:2:aa;\nc1; c0;\n"
	want := "LB0:Du12:content-type;u1:a;;;B1:Du12:content-type;u1:b;;;;c0:2:aa;c0;c1:2:bb;c1;"
	out, errOut, code := glyph(t, in, "fmt")
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\ngot  %q\nwant %q", code, errOut, out, want)
	}
}

func TestFmtRechunksLargeBlob(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // 160000 bytes
	// One chunk in, the encoder's 64 KiB chunks out.
	in, err := wire.Marshal(wire.BytesBlob("application/octet-stream", content))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := glyph(t, string(in), "fmt")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if n := strings.Count(out, ";c0:"); n != 3 {
		t.Errorf("got %d data chunks, want 3", n)
	}
	var v any
	if err := wire.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	b, ok := v.(*wire.Blob)
	if !ok {
		t.Fatalf("decoded %T, want *wire.Blob", v)
	}
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("blob content changed: %d bytes, want %d", len(got), len(content))
	}
}

func TestFmtRejectsInvalidInput(t *testing.T) {
	tests := []struct {
		name, in, stderr string
	}{
		{"bad digit", "i1x;",
			"glyph fmt: syntax error at byte 2: found 'x' in integer, expected a digit or ';'\n"},
		{"empty input", "",
			"glyph fmt: syntax error at byte 0: unexpected end of input, expected a value\n"},
		{"only whitespace", " \n ",
			"glyph fmt: syntax error at byte 3: unexpected end of input, expected a value\n"},
		{"trailing garbage", "i1; x\n",
			"glyph fmt: syntax error at byte 4: found 'x' after the end of the message, expected only whitespace\n"},
		{"second message", "i1;\ni2;",
			"glyph fmt: syntax error at byte 4: found 'i' after the end of the message, expected only whitespace\n"},
		{"chunk without a blob", "N; c0;",
			"glyph fmt: syntax error at byte 3: found a chunk record after the end of the message, but no blob is pending\n"},
		{"missing end chunk", "B0:Du12:content-type;u1:a;;;c0:2:aa;",
			"glyph fmt: syntax error at byte 36: unexpected end of input, expected a chunk record\n"},
		{"truncated list", "Li1;",
			"glyph fmt: syntax error at byte 4: unexpected end of input, expected an item or ';'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, tt.in, "fmt")
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if errOut != tt.stderr {
				t.Errorf("stderr\ngot  %q\nwant %q", errOut, tt.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"nope"}, {"fmt", "extra"}, {"show", "--nope"}, {"demo", "nope"}} {
		_, errOut, code := glyph(t, "N;", args...)
		if code != exitUsage {
			t.Errorf("glyph %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
		if !strings.HasPrefix(errOut, "glyph: ") {
			t.Errorf("glyph %s: stderr %q", strings.Join(args, " "), errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := glyph(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "glyph ") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}
