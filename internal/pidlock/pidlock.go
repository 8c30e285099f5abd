// Package pidlock is a lock file that makes one process the only one of a
// directory: an exclusive flock(2), released when the process ends
// however it ends, and the holder's process id written in the file so
// that the next one can say who holds it.
package pidlock

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrHeld is what [Lock] returns, wrapped in a [*HeldError], when another
// open file description holds the lock.
var ErrHeld = errors.New("lock held")

// HeldError says that the lock at Path is held, by process PID when the
// file names one (0 when it does not).
type HeldError struct {
	Path string
	PID  int
}

func (e *HeldError) Error() string { return e.Path + " is held by " + e.Holder() }

// Holder names the holder for a message: "process 123", "process 123
// (this one)", or "another process".
func (e *HeldError) Holder() string {
	if e.PID == 0 {
		return "another process"
	}
	h := "process " + strconv.Itoa(e.PID)
	if e.PID == os.Getpid() {
		h += " (this one)"
	}
	return h
}

// Unwrap makes a HeldError match [ErrHeld].
func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock creates path if needed, takes its exclusive lock without waiting
// and writes this process's id into it. The lock lasts until the returned
// file is closed or the process ends. A lock held elsewhere is a
// [*HeldError].
func Lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid, _ := readPID(path)
			return nil, &HeldError{Path: path, PID: pid}
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

// Holder returns the id of the process that holds the lock at path: an
// error wrapping [os.ErrNotExist] when nobody holds it (or the file names
// no process).
func Holder(path string) (int, error) {
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
	pid, err := readPID(path)
	if err != nil {
		return 0, os.ErrNotExist
	}
	return pid, nil
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
