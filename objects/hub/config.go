package hub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/glyph-ipc/glyph/service"
)

// ConfigEnv is the environment variable that names the daemon's
// configuration file; [FindConfig] looks there first.
const ConfigEnv = "GLYPH_HUB_CONFIG"

// ConfigName is the name of the configuration file in the places
// [FindConfig] searches after [ConfigEnv].
const ConfigName = "glyph-hub.yaml"

// MaxConfigSize bounds a configuration file.
const MaxConfigSize = 1 << 20

// Config is the daemon's configuration, read from one YAML file
// ([LoadConfig]). Relative paths in it are relative to the file's
// directory.
//
//	socket: /run/user/1000/glyph/hub.sock   # the applications' Unix socket (peers)
//	http_socket: /run/user/1000/glyph/hub-http.sock   # the same service over HTTP
//	store: /home/alice/.local/share/glyph/hub
//	log_level: info                          # debug, info, warn or error
//	remotes:
//	  - url: wss://remote.example/peer
//	    name: remote.example:443             # the name the remote proves (default: host:port)
//	websocket:                               # optional, for browser applications
//	  listen: 127.0.0.1:7780
//	  origins: [https://app.example]
type Config struct {
	// Socket is the path of the Unix socket applications connect to; its
	// directory is made with mode 0700. Default: DefaultSocket.
	Socket string `yaml:"socket"`
	// HTTPSocket is the path of a second Unix socket that serves the same
	// service over HTTP (curl --unix-socket, any HTTP client), to the
	// daemon's user only. Default: hub-http.sock beside Socket.
	HTTPSocket string `yaml:"http_socket"`
	// Store is the directory of the daemon's store and state.
	// Default: DefaultStore.
	Store string `yaml:"store"`
	// LogLevel is the least level logged: debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Remotes are the persistence servers the daemon keeps in step.
	Remotes []RemoteConfig `yaml:"remotes"`
	// WebSocket, when set, serves applications over a WebSocket on a
	// loopback address too, for browsers.
	WebSocket *WebSocketConfig `yaml:"websocket"`

	// path is the file the configuration came from; empty for defaults.
	path string
}

// RemoteConfig names one persistence server.
type RemoteConfig struct {
	// URL is the remote's address: "ws://host:port/peer" (pushes
	// changes) or "http://host:port/" (polled).
	URL string `yaml:"url"`
	// Name is the name the remote proves logins for (default: the URL's
	// host and port).
	Name string `yaml:"name"`
}

// WebSocketConfig enables the WebSocket for browser applications.
type WebSocketConfig struct {
	// Listen is the loopback address to listen on, such as
	// "127.0.0.1:7780".
	Listen string `yaml:"listen"`
	// Origins are the browser origins allowed to connect, such as
	// "https://app.example"; a request from any other origin is refused.
	Origins []string `yaml:"origins"`
}

// Path returns the file the configuration was read from, or "" when it
// holds the defaults.
func (c *Config) Path() string { return c.path }

// Level returns the slog level of LogLevel.
func (c *Config) Level() slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(c.LogLevel)) != nil {
		return slog.LevelInfo
	}
	return l
}

// DefaultSocket returns the socket path used when the configuration names
// none: glyph/hub.sock in $XDG_RUNTIME_DIR, else in the user's cache
// directory.
func DefaultSocket() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "glyph", "hub.sock")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "glyph", "hub", "hub.sock")
}

// DefaultStore returns the store directory used when the configuration
// names none: glyph/hub in $XDG_DATA_HOME, else in ~/.local/share.
func DefaultStore() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "glyph", "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "glyph-hub")
	}
	return filepath.Join(home, ".local", "share", "glyph", "hub")
}

// ConfigPaths returns the places [FindConfig] looks, in order: the file
// [ConfigEnv] names, glyph-hub.yaml in the current directory,
// glyph/glyph-hub.yaml in the user's configuration directory, then
// /etc/glyph/glyph-hub.yaml.
func ConfigPaths() []string {
	var ps []string
	if p := os.Getenv(ConfigEnv); p != "" {
		ps = append(ps, p)
	}
	if wd, err := os.Getwd(); err == nil {
		ps = append(ps, filepath.Join(wd, ConfigName))
	}
	if d, err := os.UserConfigDir(); err == nil {
		ps = append(ps, filepath.Join(d, "glyph", ConfigName))
	}
	return append(ps, filepath.Join("/etc", "glyph", ConfigName))
}

// FindConfig loads the first configuration file of [ConfigPaths] that
// exists. With none, it returns the defaults. A file that [ConfigEnv]
// names must exist.
func FindConfig() (*Config, error) {
	env := os.Getenv(ConfigEnv)
	for _, p := range ConfigPaths() {
		_, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != env {
			continue
		}
		return LoadConfig(p)
	}
	c := &Config{}
	return c, c.normalise(nil)
}

// LoadConfig reads the configuration file at path. Errors name the file
// and the line: an unknown key, a value of the wrong type, an invalid
// URL or level.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, service.Errorf(service.KindNotFound, "hub config: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, service.Errorf(service.KindInvalid, "%s: %s", path, strings.TrimPrefix(err.Error(), "invalid: "))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c.path = abs
	c.resolve(filepath.Dir(abs))
	return c, nil
}

// ParseConfig decodes a configuration from YAML: unknown keys are errors,
// and every error names its line. Relative paths stay relative.
func ParseConfig(data []byte) (*Config, error) {
	if len(data) > MaxConfigSize {
		return nil, service.Errorf(service.KindTooLarge, "configuration over %d bytes", MaxConfigSize)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, service.Errorf(service.KindInvalid, "%s", yamlMessage(err))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, service.Errorf(service.KindInvalid, "%s", yamlMessage(err))
	}
	if err := c.normalise(&root); err != nil {
		return nil, err
	}
	return &c, nil
}

// normalise fills defaults and checks values, naming the line of root
// (nil for no file) where a bad value is.
func (c *Config) normalise(root *yaml.Node) error {
	bad := func(path []any, format string, args ...any) error {
		return service.Errorf(service.KindInvalid, "line %d: %s", lineOf(root, path), fmt.Sprintf(format, args...))
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return bad([]any{"log_level"}, "log_level %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.Socket == "" {
		c.Socket = DefaultSocket()
	}
	if c.HTTPSocket == "" {
		c.HTTPSocket = filepath.Join(filepath.Dir(c.Socket), "hub-http.sock")
	}
	if c.Store == "" {
		c.Store = DefaultStore()
	}
	seen := map[string]bool{}
	for i, r := range c.Remotes {
		u, err := url.Parse(r.URL)
		if err != nil || u.Host == "" {
			return bad([]any{"remotes", i, "url"}, "remote %q is not a URL with a host", r.URL)
		}
		switch u.Scheme {
		case "ws", "wss", "http", "https":
		default:
			return bad([]any{"remotes", i, "url"}, "remote %q: the scheme is not ws, wss, http or https", r.URL)
		}
		if seen[r.URL] {
			return bad([]any{"remotes", i, "url"}, "remote %q is listed twice", r.URL)
		}
		seen[r.URL] = true
	}
	if w := c.WebSocket; w != nil {
		if !isLoopback(w.Listen) {
			return bad([]any{"websocket", "listen"}, "websocket listen %q is not a loopback host:port", w.Listen)
		}
		for i, o := range w.Origins {
			u, err := url.Parse(o)
			if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
				return bad([]any{"websocket", "origins", i}, "origin %q is not scheme://host[:port]", o)
			}
		}
	}
	return nil
}

// resolve makes the relative paths of c relative to dir.
func (c *Config) resolve(dir string) {
	for _, p := range []*string{&c.Socket, &c.HTTPSocket, &c.Store} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// lineOf returns the line of the node at path (map keys and sequence
// indexes) under root, or of the deepest node found on the way; 0 without
// a document.
func lineOf(root *yaml.Node, path []any) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, step := range path {
		var next *yaml.Node
		switch s := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s < len(n.Content) {
				next = n.Content[s]
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

// yamlMessage flattens a YAML error into one line per problem, each
// starting with its line: "line 2: field x not found in type hub.Config".
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
