// Package glyph_test checks README.md: every transcript in it is what the
// commands print.
package glyph_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A transcript is a command of README.md and what it prints, as the
// README shows them: "$ command" then its output.
type transcript struct {
	line    int    // of the command in README.md
	command string // without "$ "
	output  []string
}

// readmeTranscripts returns the transcripts of the fenced blocks of
// markdown that hold "$ " lines; other blocks are code, not transcripts.
func readmeTranscripts(markdown string) []transcript {
	var out []transcript
	var indent string
	inBlock := false
	cur := -1 // the transcript the block's lines go to; -1 before its first "$ "
	sc := bufio.NewScanner(strings.NewReader(markdown))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if strings.HasPrefix(trimmed, "```") {
			inBlock = !inBlock
			indent = line[:len(line)-len(trimmed)]
			cur = -1
			continue
		}
		if !inBlock {
			continue
		}
		line = strings.TrimPrefix(line, indent)
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			out = append(out, transcript{line: n, command: cmd})
			cur = len(out) - 1
			continue
		}
		if cur >= 0 {
			out[cur].output = append(out[cur].output, line)
		}
	}
	return out
}

// pattern turns a README output into a regular expression: "..." on a
// line of its own stands for any lines, "..." inside a line for any text;
// logrefs and ports, which change from run to run, match any.
func pattern(lines []string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`\A`)
	for _, l := range lines {
		if strings.TrimSpace(l) == "..." {
			b.WriteString(`(?:.*\n)*?`)
			continue
		}
		parts := strings.Split(l, "...")
		for i, p := range parts {
			if i > 0 {
				b.WriteString(`.*?`)
			}
			q := regexp.QuoteMeta(p)
			q = regexp.MustCompile(`logref [0-9a-f]{16}`).ReplaceAllString(q, `logref [0-9a-f]{16}`)
			q = regexp.MustCompile(`127\\\.0\\\.0\\\.1:[0-9]+`).ReplaceAllString(q, `127\.0\.0\.1:[0-9]+`)
			b.WriteString(q)
		}
		b.WriteString(`\n`)
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// build builds a command of the module into dir and returns its path.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// walkthrough starts the walkthrough server on free ports and returns
// its HTTP and TCP host:port. It stops with the test.
func walkthrough(t *testing.T, bin string) (httpAddr, tcpAddr string) {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-peer-addr", "tcp://127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for (httpAddr == "" || tcpAddr == "") && sc.Scan() {
		if m := regexp.MustCompile(`serving on http://([^/]+)/`).FindStringSubmatch(sc.Text()); m != nil {
			httpAddr = m[1]
		}
		if m := regexp.MustCompile(`^peers: tcp://(\S+)$`).FindStringSubmatch(sc.Text()); m != nil {
			tcpAddr = m[1]
		}
	}
	if httpAddr == "" || tcpAddr == "" {
		t.Fatalf("the walkthrough server did not say where it listens (%v)", sc.Err())
	}
	go func() {
		for sc.Scan() { // keep its stdout drained
		}
	}()
	return httpAddr, tcpAddr
}

// TestReadmeTranscripts runs every "$ command" of README.md and compares
// what it prints with what README.md shows. The commands that talk to the
// walkthrough server (127.0.0.1:8080, and 127.0.0.1:7001 for TCP peers)
// talk to one this test starts on free ports; glyph is the command built
// from this checkout.
func TestReadmeTranscripts(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed: install it to run README.md's transcripts")
	}
	ts := readmeTranscripts(string(readme))
	if len(ts) < 10 {
		t.Fatalf("found %d transcripts in README.md; the parser lost them", len(ts))
	}
	bin := t.TempDir()
	build(t, bin, "./cmd/glyph")
	httpAddr, tcpAddr := walkthrough(t, build(t, bin, "./examples/walkthrough"))
	for _, tr := range ts {
		t.Run(fmt.Sprintf("line %d", tr.line), func(t *testing.T) {
			if strings.HasPrefix(tr.command, "curl ") {
				requireCurl(t)
			}
			command := strings.NewReplacer("127.0.0.1:8080", httpAddr, "127.0.0.1:7001", tcpAddr).Replace(tr.command)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", command)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil && !strings.HasPrefix(string(out), "glyph ") {
				t.Errorf("$ %s\n%v\n%s", tr.command, err, out)
				return
			}
			if strings.HasSuffix(command, "| glyph fmt") && err == nil {
				// fmt ends its output with a newline on a terminal, as
				// README.md shows it, and not in a pipe, as here.
				out = append(out, '\n')
			}
			if !pattern(tr.output).Match(out) {
				t.Errorf("README.md line %d: $ %s\nprints\n%s\nREADME.md shows\n%s", tr.line, tr.command, out, strings.Join(tr.output, "\n"))
			}
		})
	}
}

// requireCurl skips a test that runs curl where it is not installed,
// except on CI, which installs it.
func requireCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed; .ci/run installs it")
		}
		t.Skip("curl is not installed: install it (apt-get install curl) to run README.md's curl transcripts")
	}
}

// TestTranscriptPattern: what the README's shorthand matches, and what it
// does not.
func TestTranscriptPattern(t *testing.T) {
	p := pattern([]string{`a: "x" (logref 5c0e6a4f9d2b1a37)`, "  ...", `url: "http://127.0.0.1:8080/", values: [...]}`})
	for in, want := range map[string]bool{
		"a: \"x\" (logref 0123456789abcdef)\nurl: \"http://127.0.0.1:41234/\", values: [1, 2]}\n":        true,
		"a: \"x\" (logref 0123456789abcdef)\n  one\n  two\nurl: \"http://127.0.0.1:1/\", values: []}\n":  true,
		"a: \"y\" (logref 0123456789abcdef)\nurl: \"http://127.0.0.1:41234/\", values: [1, 2]}\n":        false,
		"a: \"x\" (logref 0123456789abcdef)\nurl: \"http://127.0.0.1:41234/\", values: [1, 2]}\nextra\n": false,
		"a: \"x\" (logref 0123456789abcdef)\nurl: \"http://127.0.0.1:41234/\", values: [1, 2]}":          false,
		"a: \"x\" (logref 0123456789abcdeg)\nurl: \"http://127.0.0.1:41234/\", values: [1, 2]}\n":        false,
	} {
		if got := p.MatchString(in); got != want {
			t.Errorf("pattern matches %q: %v, want %v", in, got, want)
		}
	}
	ts := readmeTranscripts("text\n```\ncode\n```\n\n  ```\n  $ glyph a\n  one\n  $ glyph b\n  ```\n```sh\ngo run x\n```\n```\n$ glyph c\n```\nafter\n")
	if len(ts) != 3 || ts[0].command != "glyph a" || strings.Join(ts[0].output, "|") != "one" || ts[1].command != "glyph b" || len(ts[1].output) != 0 || len(ts[2].output) != 0 {
		t.Errorf("readmeTranscripts: %+v", ts)
	}
}
