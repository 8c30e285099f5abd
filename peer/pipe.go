package peer

import (
	"context"
	"io"
	"net"
	"sync"
)

// Pipe returns the two ends of an in-memory connection. Frames written to
// one end are read from the other in order; WriteFrames copies the data,
// and blocks only when the other end has many batches unread. Closing
// either end makes the other read io.EOF after the frames already sent.
func Pipe() (FrameConn, FrameConn) {
	ab := make(chan []Frame, 64)
	ba := make(chan []Frame, 64)
	aClosed, bClosed := make(chan struct{}), make(chan struct{})
	a := &pipeEnd{in: ba, out: ab, closed: aClosed, peerClosed: bClosed, name: "pipe:a", peer: "pipe:b"}
	b := &pipeEnd{in: ab, out: ba, closed: bClosed, peerClosed: aClosed, name: "pipe:b", peer: "pipe:a"}
	return a, b
}

type pipeEnd struct {
	in         <-chan []Frame
	out        chan<- []Frame
	pending    []Frame       // the rest of the batch being read; the reader's own
	closed     chan struct{} // this end closed
	peerClosed chan struct{}
	closeOnce  sync.Once
	name, peer string
}

func (p *pipeEnd) ReadFrame(ctx context.Context) (Frame, error) {
	for len(p.pending) == 0 {
		select {
		case b := <-p.in:
			p.pending = b
			continue
		default:
		}
		select {
		case b := <-p.in:
			p.pending = b
		case <-p.closed:
			return Frame{}, net.ErrClosed
		case <-p.peerClosed:
			select {
			case b := <-p.in:
				p.pending = b
			default:
				return Frame{}, io.EOF
			}
		case <-ctx.Done():
			return Frame{}, context.Cause(ctx)
		}
	}
	f := p.pending[0]
	p.pending[0] = Frame{}
	p.pending = p.pending[1:]
	return f, nil
}

func (p *pipeEnd) WriteFrames(ctx context.Context, frames []Frame) error {
	if len(frames) == 0 {
		return nil
	}
	size := 0
	for _, f := range frames {
		size += len(f.Data)
	}
	data := make([]byte, 0, size)
	batch := make([]Frame, len(frames))
	for i, f := range frames {
		start := len(data)
		data = append(data, f.Data...)
		batch[i] = Frame{Data: data[start:len(data):len(data)], Text: f.Text}
	}
	select {
	case <-p.closed:
		return net.ErrClosed
	case <-p.peerClosed:
		return io.ErrClosedPipe
	default:
	}
	select {
	case p.out <- batch:
		return nil
	case <-p.closed:
		return net.ErrClosed
	case <-p.peerClosed:
		return io.ErrClosedPipe
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (p *pipeEnd) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

func (p *pipeEnd) LocalAddr() string  { return p.name }
func (p *pipeEnd) RemoteAddr() string { return p.peer }
