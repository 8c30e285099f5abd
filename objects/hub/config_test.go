package hub_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/service"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // a substring of the error; "" for none
	}{
		{"empty", "", ""},
		{"full", "socket: run/hub.sock\nstore: data\nlog_level: debug\nremotes:\n  - url: ws://127.0.0.1:7777/peer\n    name: r1\nwebsocket:\n  listen: 127.0.0.1:7780\n  origins: [https://app.example]\n", ""},
		{"unknown key", "store: data\nsokcet: x\n", "line 2: field sokcet not found"},
		{"wrong type", "store: data\nremotes: 3\n", "line 2:"},
		{"bad level", "store: data\n\nlog_level: loud\n", "line 3: log_level \"loud\""},
		{"bad remote", "remotes:\n  - url: ws://a/peer\n  - url: ftp://b/\n", "line 3: remote \"ftp://b/\""},
		{"twice", "remotes:\n  - url: ws://a/peer\n  - url: ws://a/peer\n", "line 3: remote \"ws://a/peer\" is listed twice"},
		{"public websocket", "websocket:\n  listen: 0.0.0.0:7780\n", "line 2: websocket listen"},
		{"bad origin", "websocket:\n  listen: localhost:1\n  origins:\n    - https://ok.example\n    - '*'\n", "line 5: origin \"*\""},
		{"syntax", "store: [\n", "line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := hub.ParseConfig([]byte(tc.yaml))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.Store == "" || c.Socket == "" || c.LogLevel == "" {
					t.Fatalf("defaults not filled: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if service.KindOf(err) != service.KindInvalid {
				t.Fatalf("kind %v", service.KindOf(err))
			}
		})
	}
}

// FindConfig takes the file the environment names first, then the
// current directory's, then the user's configuration directory's.
func TestFindConfigOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(path, store string) string {
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte("store: "+store+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	home := filepath.Join(dir, "home")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("HOME", home)
	t.Setenv(hub.ConfigEnv, "")
	wd := filepath.Join(dir, "wd")
	os.MkdirAll(wd, 0o700)
	t.Chdir(wd)

	user := write(filepath.Join(home, ".config", "glyph", hub.ConfigName), "/user")
	check := func(wantPath, wantStore string) {
		t.Helper()
		c, err := hub.FindConfig()
		if err != nil {
			t.Fatal(err)
		}
		if c.Path() != wantPath || c.Store != wantStore {
			t.Fatalf("found %q with store %q, want %q with %q", c.Path(), c.Store, wantPath, wantStore)
		}
	}
	check(user, "/user")
	local := write(filepath.Join(wd, hub.ConfigName), "data")
	check(local, filepath.Join(wd, "data")) // relative to the file
	env := write(filepath.Join(dir, "env.yaml"), "/env")
	t.Setenv(hub.ConfigEnv, env)
	check(env, "/env")
	t.Setenv(hub.ConfigEnv, filepath.Join(dir, "missing.yaml"))
	if _, err := hub.FindConfig(); service.KindOf(err) != service.KindNotFound {
		t.Fatalf("a missing file named by %s: %v", hub.ConfigEnv, err)
	}
}

func TestLoadConfigNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hub.yaml")
	os.WriteFile(p, []byte("store: x\nbogus: 1\n"), 0o600)
	_, err := hub.LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), p+": line 2: field bogus not found") {
		t.Fatalf("error %v", err)
	}
}
