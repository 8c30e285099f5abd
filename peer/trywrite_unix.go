//go:build unix

package peer

import (
	"errors"
	"syscall"
)

// rawWriter returns what tryWrite needs of c's connection: its raw
// descriptor, when it has one.
func rawWriter(c any) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// nowait writes as much of its buffer as a socket takes without waiting.
// One is kept per connection, so that a write allocates nothing (a
// closure made per write would).
type nowait struct {
	rc  syscall.RawConn
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func newNowait(rc syscall.RawConn) *nowait {
	w := &nowait{rc: rc}
	w.fn = w.write
	return w
}

func (w *nowait) write(fd uintptr) bool {
	for w.n < len(w.b) {
		m, err := syscall.Write(int(fd), w.b[w.n:])
		if m > 0 {
			w.n += m
		}
		switch {
		case err == nil && m > 0, errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
		case err != nil:
			w.err = err
		}
		break
	}
	return true // never wait for the socket: the caller must not
}

// tryWrite writes as much of b as the socket takes without waiting and
// returns how much that was.
func (w *nowait) tryWrite(b []byte) (int, error) {
	w.b, w.n, w.err = b, 0, nil
	err := w.rc.Write(w.fn)
	n := w.n
	if err == nil {
		err = w.err
	}
	w.b, w.err = nil, nil
	return n, err
}
