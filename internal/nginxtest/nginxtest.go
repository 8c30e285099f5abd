// Package nginxtest runs nginx in front of test servers: Debian's package
// (apt-get install nginx), with a configuration rendered into the test's
// temporary directory, which also holds its PID file, logs, temporary
// files and cache, listening on a free port of 127.0.0.1 and stopped by
// its PID when the test ends.
//
// The configuration is two parts. The site, [SiteConfig], is what a
// service's operator writes: a proxy cache, an upstream block with the
// backends and a server that proxies to them through the cache, adding an
// X-Cache-Status header that tells HIT, MISS, REVALIDATED, EXPIRED or
// BYPASS apart. README.md shows it, and a test checks that README.md
// shows what [Start] runs. The main part around it runs nginx in the
// foreground with everything in the temporary directory.
//
// A test calls [Start] after its backends are listening. Without nginx it
// skips with one line saying how to install it, except under CI=true,
// where it fails: CI must run it.
package nginxtest

import (
	"bytes"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/glyph-ipc/glyph/internal/testneed"
)

// Path returns the path of the nginx binary: Debian's /usr/sbin/nginx,
// else nginx on PATH; "" for none.
func Path() string {
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	return ""
}

// Site is what [SiteConfig] fills in.
type Site struct {
	Listen   string   // the address nginx listens on, host:port
	Backends []string // the upstream servers, host:port each
	CacheDir string   // the directory of the proxy cache
}

//go:embed site.conf
var siteText string

var siteTemplate = template.Must(template.New("site.conf").Parse(siteText))

// SiteConfig returns the site's configuration: the http-level
// directives (a proxy cache, an upstream, a server) that a service's
// operator puts in nginx's configuration, for instance as a file in
// /etc/nginx/conf.d/.
func SiteConfig(s Site) string {
	var b strings.Builder
	if err := siteTemplate.Execute(&b, s); err != nil {
		panic(err) // the template is fixed and Site's fields cannot fail it
	}
	return b.String()
}

// mainTemplate runs nginx in the foreground (the test waits for it and
// stops it) with its PID file, logs and temporary files in dir, and
// the site. As root, its workers run as the test's user, not nginx's
// default nobody, who could not enter the temporary directory (mode
// 0700, the test's).
var mainTemplate = template.Must(template.New("nginx.conf").Parse(`{{if .User}}user {{.User}};
{{end}}daemon off;
master_process on;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log notice;

events {
    worker_connections 256;
}

http {
    access_log {{.Dir}}/access.log;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;

    include {{.Dir}}/site.conf;
}
`))

// Server is an nginx that [Start] started.
type Server struct {
	// URL is nginx's base URL, http://127.0.0.1:port, without a
	// trailing slash (like httptest.Server's).
	URL string
	dir string
	cmd *exec.Cmd
}

// Start starts nginx in front of backends (host:port each) for the test
// t and returns once it accepts connections. It is stopped when the test
// ends: SIGQUIT, nginx's graceful shutdown, then SIGKILL to its process
// group if it has not exited after a few seconds.
func Start(t testing.TB, backends ...string) *Server {
	t.Helper()
	path := Path()
	if path == "" {
		testneed.Missing(t, "nginx is not installed", "apt-get install nginx")
	}
	dir := t.TempDir()
	top := struct{ Dir, User string }{Dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		top.User = u.Username
	}
	var conf bytes.Buffer
	if err := mainTemplate.Execute(&conf, top); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), conf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// A free port can be taken between the moment it is found and
	// nginx's bind: try again with another.
	var err error
	for range 3 {
		var s *Server
		if s, err = start(t, path, dir, backends); err == nil {
			return s
		}
	}
	t.Fatal(err)
	return nil
}

// start writes the site for a free port and runs nginx with it.
func start(t testing.TB, path, dir string, backends []string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	site := SiteConfig(Site{Listen: addr, Backends: backends, CacheDir: filepath.Join(dir, "cache")})
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		return nil, err
	}
	errLog := filepath.Join(dir, "error.log")
	os.Remove(errLog) // a failed attempt's
	cmd := exec.Command(path, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", errLog)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that a SIGKILL reaches its workers too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting nginx: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s := &Server{URL: "http://" + addr, dir: dir, cmd: cmd}
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case <-exited:
			return nil, fmt.Errorf("nginx exited at start (%v): %s%s", cmd.ProcessState, out.Bytes(), s.ErrorLog())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop(cmd, exited)
			return nil, fmt.Errorf("nginx did not accept connections on %s in 10s: %s", addr, s.ErrorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		if !stop(cmd, exited) {
			t.Errorf("nginx (PID %d) did not stop on SIGQUIT; killed it", cmd.Process.Pid)
		}
	})
	return s, nil
}

// stop stops nginx by its PID, gracefully, and by force if it has not
// exited after 5 s; it reports whether nginx stopped gracefully.
func stop(cmd *exec.Cmd, exited <-chan struct{}) bool {
	pid := cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGQUIT)
	select {
	case <-exited:
		return true
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	return false
}

// freeAddr returns a port of 127.0.0.1 that nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// ErrorLog returns what nginx wrote to its error log so far (with the
// notices of its start and stop), for a failing test's message.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
	return string(b)
}

// PID returns the process ID of nginx's master process.
func (s *Server) PID() int { return s.cmd.Process.Pid }
