// Package pgtest runs a throwaway PostgreSQL server for tests and
// benchmarks: Debian's server binaries (package postgresql), a fresh data
// directory under the system's temporary directory, a Unix socket in it
// and no TCP port, stopped by its PID at the end. Run as root, the server
// runs as the user postgres (or nobody), since initdb refuses root.
//
// A TestMain calls [Main]; each test calls [Need] for a database of its
// own.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrMissing is returned by [Start] when the PostgreSQL server binaries
// are not installed.
var ErrMissing = errors.New("PostgreSQL is not installed (apt-get install postgresql)")

// Server is a PostgreSQL server that [Start] started.
type Server struct {
	dir    string // the temporary directory: data/, the socket, server.log
	cmd    *exec.Cmd
	exited chan struct{} // closed when the server process has exited
	dbs    atomic.Int64  // databases made so far, for their names
}

// An Option changes how [Start] runs the server.
type Option func(*config)

type config struct {
	durable bool
}

// Durable makes the server sync its writes to disk as a production server
// does (for benchmarks); tests run without, which is faster.
func Durable() Option { return func(c *config) { c.durable = true } }

// binDir finds the directory of initdb and postgres: on PATH, else the
// newest of Debian's /usr/lib/postgresql/*/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrMissing
}

// serverUser returns the credentials to run the server with: none when
// not root, else those of the user postgres, or nobody's.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, errors.New("running as root, and neither user postgres nor nobody exists to run PostgreSQL as")
}

// Start initialises a data directory and starts a server on a Unix
// socket in it, waiting (at most a minute) until it accepts connections.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "glyph-pg-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	s := &Server{dir: dir, exited: make(chan struct{})}
	if err := s.initdb(ctx, bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var c config
	for _, o := range opts {
		o(&c)
	}
	args := []string{"-D", filepath.Join(dir, "data"), "-k", dir, "-c", "listen_addresses=", "-c", "max_connections=200"}
	if !c.durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off")
	}
	if err := s.start(bin, cred, args); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(s.dir, "data"),
		"-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// start runs postgres as a child whose parent-death signal is SIGQUIT, so
// that a test binary that dies takes its server with it. That signal
// follows the OS thread that started the child: the goroutine below keeps
// its thread, waiting for the server, until the server exits.
func (s *Server) start(bin string, cred *syscall.Credential, args []string) error {
	log, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	s.cmd.Dir = s.dir
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := s.cmd.Start()
		started <- err
		if err == nil {
			s.cmd.Wait()
		}
		log.Close()
		close(s.exited)
	}()
	return <-started
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := pgx.Connect(ctx, s.ConnString("postgres"))
		if err == nil {
			return c.Close(ctx)
		}
		select {
		case <-s.exited:
			b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
			return fmt.Errorf("postgres exited at start:\n%s", b)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within a minute: %v", err)
		}
	}
}

// ConnString returns the connection string of database db.
func (s *Server) ConnString(db string) string {
	return fmt.Sprintf("host=%s port=5432 user=postgres dbname=%s sslmode=disable", s.dir, db)
}

// NewDatabase creates an empty database and returns its connection
// string.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	c, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.ConnString(name), nil
}

// Stop stops the server by its PID (a fast shutdown, then SIGKILL after
// 30 seconds) and removes its directory.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.dir)
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
	}
	s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
	return errors.New("postgres did not stop within 30 seconds of SIGINT; killed")
}

// server is the one that Main started, nil if none.
var server *Server

// startErr is why Main has no server.
var startErr error

// Main starts a server, runs the tests and stops the server, returning
// the exit code for os.Exit. Without PostgreSQL installed, the tests run
// and [Need] skips (or, under CI=true, fails) the ones that need it.
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	server, startErr = Start(ctx)
	cancel()
	if startErr != nil && !errors.Is(startErr, ErrMissing) {
		fmt.Fprintln(os.Stderr, "pgtest:", startErr)
		return 1
	}
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
	}
	return code
}

// Need returns the connection string of a new, empty database on the
// server that Main started, or skips t with one line saying how to run
// it when PostgreSQL is not installed. Under CI=true it fails t instead.
func Need(t testing.TB) string {
	t.Helper()
	if server == nil {
		if startErr == nil {
			t.Fatal("pgtest.Main did not run: call it from TestMain")
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", startErr)
		}
		t.Skip(startErr)
	}
	conn, err := server.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return conn
}
