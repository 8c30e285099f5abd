package hub

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/glyph-ipc/glyph/service"
)

// LockName is the lock file in the store directory that makes one daemon
// the only one of its store; it holds the daemon's process id.
const LockName = "hub.lock"

// lockStore takes the exclusive lock of dir's lock file and writes this
// process's id into it.
func lockStore(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := "another process"
			if pid, err := LockHolder(dir); err == nil {
				holder = "process " + strconv.Itoa(pid)
			}
			return nil, service.Errorf(service.KindUnavailable, "hub store %s is in use by %s", dir, holder)
		}
		return nil, err
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// LockHolder returns the process id of the daemon running on the store in
// dir: an error wrapping [os.ErrNotExist] when none runs.
func LockHolder(dir string) (int, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// A lock we can take is a lock nobody holds.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0, os.ErrNotExist
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, os.ErrNotExist
	}
	return pid, nil
}

// isLoopback reports whether hostport is a host:port on the loopback
// interface.
func isLoopback(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
