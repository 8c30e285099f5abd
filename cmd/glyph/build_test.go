package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildGlyph builds the glyph command once per test binary, with its VCS
// information recorded whatever GOFLAGS says, and returns its path.
func buildGlyph(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "glyph-build")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "glyph")
		cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", built.path, ".")
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

// TestVersionText: the module version, Go and the revision as the build
// recorded them.
func TestVersionText(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string // after "glyph "
	}{
		{"from a checkout", &debug.BuildInfo{
			Main: debug.Module{Version: "v0.0.0-20261207072254-887794950d69+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "887794950d69dbd88fccf174ffe86dc5eaf047a9"},
				{Key: "vcs.time", Value: "2026-12-07T07:22:54Z"}, {Key: "vcs.modified", Value: "true"}},
		}, "v0.0.0-20261207072254-887794950d69+dirty GO\ngit revision 887794950d69dbd88fccf174ffe86dc5eaf047a9 (2026-12-07T07:22:54Z, modified)\n"},
		{"a clean checkout", &debug.BuildInfo{
			Main:     debug.Module{Version: "v0.0.0-20261207072254-887794950d69"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "887794950d69"}, {Key: "vcs.modified", Value: "false"}},
		}, "v0.0.0-20261207072254-887794950d69 GO\ngit revision 887794950d69\n"},
		{"a release", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3 GO\n"},
		{"without VCS information", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"(devel) GO\nrevision unknown: built without VCS information (-buildvcs=false, or not from a checkout)\n"},
		{"no build information", nil,
			"(devel) GO\nrevision unknown: built without VCS information (-buildvcs=false, or not from a checkout)\n"},
	}
	goLine := strings.TrimSuffix(strings.TrimPrefix(versionText(nil), "glyph (devel) "), "\nrevision unknown: built without VCS information (-buildvcs=false, or not from a checkout)\n")
	if !strings.HasPrefix(goLine, "go") || !strings.Contains(goLine, "/") {
		t.Fatalf("no Go version and platform in %q", versionText(nil))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := "glyph " + strings.Replace(tt.want, "GO", goLine, 1)
			if got := versionText(tt.bi); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestVersionOfBuild: a glyph built from this checkout says what the
// build recorded, as go version -m reads it from the binary: the module
// version and the VCS revision (a git clone records them; a checkout the
// go command cannot read, such as a git worktree, records none, and glyph
// version then says so).
func TestVersionOfBuild(t *testing.T) {
	bin := buildGlyph(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	version := ""
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			version = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			settings[k] = v
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "glyph "+version+" go") {
		t.Errorf("glyph version printed %q; go version -m says the module version is %q", lines[0], version)
	}
	switch rev := settings["vcs.revision"]; {
	case rev != "":
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "git revision "+rev) {
			t.Errorf("glyph version printed\n%s\nwant the revision %s", out, rev)
		}
		if r, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && strings.TrimSpace(string(r)) != rev {
			t.Errorf("the build recorded revision %s; the checkout is at %s", rev, r)
		}
	default:
		t.Logf("this build recorded no VCS information (go version -m:\n%s)", info)
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "revision unknown") {
			t.Errorf("glyph version printed\n%s\nwant it to say the revision is unknown", out)
		}
	}
}

// TestCompletion: completion scripts for the four shells, and cobra's
// completions of subcommands and flags, call's included though it parses
// its flags itself.
func TestCompletion(t *testing.T) {
	for shell, mark := range map[string]string{"bash": "__start_glyph", "zsh": "#compdef glyph", "fish": "complete -c glyph", "powershell": "Register-ArgumentCompleter"} {
		out, errOut, code := glyph(t, "", "completion", shell)
		if code != 0 || errOut != "" || !strings.Contains(out, mark) {
			t.Errorf("completion %s: exit %d, stderr %q, %d bytes without %q", shell, code, errOut, len(out), mark)
		}
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"c"}, []string{"call\t", "completion\t"}},
		{[]string{"call", "--ti"}, []string{"--timeout\t"}},
		{[]string{"call", "http://127.0.0.1/", "hello", "--he"}, []string{"--header\t"}},
		{[]string{"get", "http://127.0.0.1/", "--in"}, []string{"--insecure\t"}},
		{[]string{"demo", ""}, []string{"walkthrough", "peers", "encoding", "deploy", "telemeter"}},
	}
	for _, tt := range tests {
		out, _, code := glyph(t, "", append([]string{"__complete"}, tt.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != len(tt.want)+1 {
			t.Errorf("__complete %q: exit %d\n%s", tt.args, code, out)
			continue
		}
		for i, w := range tt.want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("__complete %q: line %d is %q, want %q", tt.args, i, lines[i], w)
			}
		}
	}
}

// TestNoExamples: the tool, its tests included, imports nothing from
// examples/: what the demo runs lives in internal/, and the examples are
// programs built on it.
func TestNoExamples(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "/glyph/examples/") {
			t.Errorf("cmd/glyph depends on %s", pkg)
		}
	}
}
