package peer

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// DefaultMaxFrameSize is the largest frame a connection reads unless
// configured otherwise: 4 MiB.
const DefaultMaxFrameSize = 4 << 20

// maxStreamFrame is the most the stream framing can say: the length has
// 31 bits.
const maxStreamFrame = 1<<31 - 1

// maxCopiedBatch is the largest batch a stream transport over a net.Conn
// copies into one buffer to write; larger ones go out with writev.
const maxCopiedBatch = 64 << 10

// Frame is one transport message: a whole envelope or a handshake line.
// Text frames hold UTF-8 (the handshake, the JSON codec); the others
// binary data. An empty frame is a keepalive and is ignored.
type Frame struct {
	Data []byte
	Text bool
}

// FrameConn is one framed connection. ReadFrame is called by one
// goroutine and WriteFrames by one other; Close may be called at any time
// from any goroutine and makes both return.
type FrameConn interface {
	// ReadFrame returns the next frame, whose data may be valid only
	// until the next ReadFrame: a caller that keeps it copies it. It
	// fails with a *service.Error of kind [service.KindTooLarge] for a frame over the
	// connection's limit, after which the connection cannot be read and
	// should be closed (a Conn first tells the remote why), and with
	// io.EOF or another error when the connection ends. ctx bounds the
	// wait.
	ReadFrame(ctx context.Context) (Frame, error)
	// WriteFrames writes frames in order as one batch: with one write
	// system call on stream transports. It must not keep the frames or
	// their data after it returns: the caller reuses them.
	WriteFrames(ctx context.Context, frames []Frame) error
	// Close closes the connection.
	Close() error
	// LocalAddr and RemoteAddr describe the ends, for logs.
	LocalAddr() string
	RemoteAddr() string
}

// A ReasonCloser is a FrameConn that can tell the remote why it is
// closed: the WebSocket FrameConns of this package (from Dial and
// NewWebSocketHandler) send a close status and the reason's text. A Conn
// that closes because of an error (a bad frame, a frame over the limit, an
// internal error) calls CloseWithReason instead of Close. A FrameConn that
// wraps another should implement it by passing the reason on, or the
// remote sees a plain close; Go does not promote the method through an
// embedded FrameConn.
type ReasonCloser interface {
	FrameConn
	// CloseWithReason closes the connection as Close does, telling the
	// remote reason, which may be nil.
	CloseWithReason(reason error) error
}

// A Pinger is a FrameConn whose transport has keepalive messages of its
// own: the WebSocket FrameConns of this package send ping control frames,
// which every WebSocket library answers. A Conn whose remote lacks the
// "ping" extension (a baseline duplex peer) keeps the connection alive
// with them, as Config.KeepAlive says. A FrameConn that wraps another
// should implement it by passing the call on.
type Pinger interface {
	FrameConn
	// Ping sends a ping and waits for its answer, or until ctx ends. It
	// needs a concurrent ReadFrame, which a Conn always has.
	Ping(ctx context.Context) error
}

// ---- length-prefixed frames over a byte stream ----

// NewStreamConn returns a FrameConn that frames a byte stream (TCP, a
// Unix socket, stdio) as spec.md section 2 says: each frame is a 4-byte
// big-endian header, whose top bit marks a text frame and whose other 31
// bits are the length, then the data. Frames longer than maxFrame (≤ 0
// means DefaultMaxFrameSize) are refused on read before anything is
// allocated for them.
//
// A frame ReadFrame returns is a slice of the connection's read buffer,
// valid until the next ReadFrame. When rwc is a net.Conn, ReadFrame and
// WriteFrames honour their ctx through deadlines, and a batch over
// 64 KiB is written with writev; otherwise ctx bounds nothing. Smaller
// batches are copied into one buffer and written at once.
//
// The first frame on a stream is the handshake's, a text frame, so first
// bytes "HTTP" are an HTTP server answering (spec.md section 3.2): the
// first ReadFrame then fails with [service.KindBadFrame] saying so.
func NewStreamConn(rwc io.ReadWriteCloser, maxFrame int) FrameConn {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrameSize
	}
	if maxFrame > maxStreamFrame {
		maxFrame = maxStreamFrame
	}
	c := &streamConn{rwc: rwc, br: bufio.NewReaderSize(rwc, 32<<10), max: maxFrame, local: "stream", remote: "stream"}
	if nc, ok := rwc.(net.Conn); ok {
		c.nc = nc
		c.local, c.remote = addrString(nc.LocalAddr()), addrString(nc.RemoteAddr())
	}
	return c
}

type streamConn struct {
	rwc           io.ReadWriteCloser
	nc            net.Conn // rwc, when it is one
	br            *bufio.Reader
	max           int
	local, remote string
	rbuf          []byte      // the reader's buffer for frames readTransient returns
	readOne       bool        // the reader has read a frame header: the handshake's is behind it
	wbuf          []byte      // the writer's batch buffer; used by WriteFrames only
	hdrs          []byte      // the writer's headers, for writev
	bufs          net.Buffers // the writer's writev vector, kept between batches
	closeOnce     sync.Once
	closeErr      error
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.Network() + "://" + a.String()
}

// frameHeader returns the 4-byte header of a frame.
func frameHeader(b []byte, f Frame) []byte {
	h := uint32(len(f.Data))
	if f.Text {
		h |= 1 << 31
	}
	return binary.BigEndian.AppendUint32(b, h)
}

func (c *streamConn) ReadFrame(ctx context.Context) (Frame, error) {
	if c.nc != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() {
				c.nc.SetReadDeadline(time.Time{})
			}
		}()
	}
	f, err := c.readTransient()
	if err != nil && ctx.Err() != nil {
		return Frame{}, context.Cause(ctx)
	}
	return f, err
}

// readTransient reads a frame whose data is valid only until the next
// read (the FrameConn contract allows it, and saves a copy): a slice of the read buffer when the whole frame is in it, else of
// a buffer kept for the next frames.
func (c *streamConn) readTransient() (Frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return Frame{}, err
	}
	if !c.readOne {
		c.readOne = true
		if string(hdr[:]) == "HTTP" {
			return Frame{}, c.httpAnswer()
		}
	}
	h := binary.BigEndian.Uint32(hdr[:])
	f := Frame{Text: h>>31 == 1}
	n := int(h &^ (1 << 31))
	if n > c.max {
		return Frame{}, errorf(service.KindTooLarge, "frame of %d bytes over the limit of %d", n, c.max)
	}
	if n == 0 {
		return f, nil
	}
	if n <= c.br.Buffered() || n <= c.br.Size() {
		// Peek fills the buffer up to n, waiting for the rest of the
		// frame; the data stays there until Discard's next read.
		b, err := c.br.Peek(n)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
		c.br.Discard(n)
		f.Data = b
		return f, nil
	}
	if n > maxKeptRead {
		b, err := c.readData(n)
		f.Data = b
		return f, err
	}
	if cap(c.rbuf) < n {
		c.rbuf = make([]byte, n)
	}
	b := c.rbuf[:n]
	if _, err := io.ReadFull(c.br, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	f.Data = b
	return f, nil
}

// httpAnswer is the error for a stream whose first bytes are "HTTP": an
// HTTP server's answer to our greeting (spec.md, 3.2), which would
// otherwise read as a binary frame of about 1.2 GB. It says what came,
// from the status line as far as it has arrived, and which URL reaches
// an HTTP server instead.
func (c *streamConn) httpAnswer() error {
	rest, _ := c.br.Peek(min(c.br.Buffered(), 200))
	line, _, _ := strings.Cut("HTTP"+string(rest), "\n")
	line = strings.ToValidUTF8(strings.TrimSuffix(line, "\r"), "?")
	msg := fmt.Sprintf("%s answered with HTTP (%q), not the peer protocol", c.remote, line)
	if hostPort, ok := strings.CutPrefix(c.remote, "tcp://"); ok {
		msg += fmt.Sprintf(": use http://%s/ to reach it, or the ws:// URL of its WebSocket endpoint if it serves peers there", hostPort)
	}
	return errorf(service.KindBadFrame, "%s", msg)
}

// maxKeptRead is the largest frame readTransient reads into the buffer it
// keeps; larger ones get their own.
const maxKeptRead = 256 << 10

// readData reads n bytes of frame data into a buffer of its own.
func (c *streamConn) readData(n int) ([]byte, error) {
	// Grow the buffer as data arrives, so that a header alone does not
	// make us allocate the whole frame.
	buf := make([]byte, min(n, 64<<10))
	read := 0
	for {
		m, err := io.ReadFull(c.br, buf[read:])
		read += m
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if read == n {
			break
		}
		buf = append(buf, make([]byte, min(n, 2*len(buf))-len(buf))...)
	}
	return buf, nil
}

func (c *streamConn) WriteFrames(ctx context.Context, frames []Frame) error {
	if c.nc != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.nc.SetWriteDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() {
				c.nc.SetWriteDeadline(time.Time{})
			}
		}()
	}
	for _, f := range frames {
		if len(f.Data) > maxStreamFrame {
			return errorf(service.KindTooLarge, "frame of %d bytes over the framing's limit", len(f.Data))
		}
	}
	size := 0
	for _, f := range frames {
		size += 4 + len(f.Data)
	}
	var err error
	if c.nc != nil && size > maxCopiedBatch {
		// writev: the headers and the data as they are.
		c.hdrs = c.hdrs[:0]
		for _, f := range frames {
			c.hdrs = frameHeader(c.hdrs, f)
		}
		bufs := c.bufs[:0]
		for i, f := range frames {
			bufs = append(bufs, c.hdrs[4*i:4*i+4])
			if len(f.Data) > 0 {
				bufs = append(bufs, f.Data)
			}
		}
		vec := bufs // WriteTo consumes its receiver
		_, err = vec.WriteTo(c.nc)
		clear(bufs) // do not keep the frames alive
		if cap(bufs) <= 1024 {
			c.bufs = bufs[:0]
		}
	} else {
		// One buffer and one write: for a small batch, copying costs
		// less than writev's vector.
		c.wbuf = c.wbuf[:0]
		for _, f := range frames {
			c.wbuf = frameHeader(c.wbuf, f)
			c.wbuf = append(c.wbuf, f.Data...)
		}
		_, err = c.rwc.Write(c.wbuf)
		if cap(c.wbuf) > 1<<20 {
			c.wbuf = nil // do not keep a large buffer around
		}
	}
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

func (c *streamConn) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.rwc.Close() })
	return c.closeErr
}

func (c *streamConn) LocalAddr() string  { return c.local }
func (c *streamConn) RemoteAddr() string { return c.remote }

// ---- stdio ----

// Stdio returns a FrameConn over the process's standard input and output,
// for a peer started as a child process; frames are limited to
// DefaultMaxFrameSize. Close closes both.
func Stdio() FrameConn {
	return NewStreamConn(stdio{}, 0)
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error {
	err := os.Stdout.Close()
	if err2 := os.Stdin.Close(); err == nil {
		err = err2
	}
	return err
}

// ---- in-memory pipe ----

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

// ---- dialing and listening ----

// DialOptions configures Dial. The zero value is valid.
type DialOptions struct {
	// MaxFrameSize bounds the frames read; ≤ 0 means DefaultMaxFrameSize.
	MaxFrameSize int
	// HTTPClient makes WebSocket handshakes (its Transport's TLS config
	// for wss://); nil means http.DefaultClient.
	HTTPClient *http.Client
	// HTTPHeader is sent with a WebSocket handshake (for example
	// Authorization, or the Origin a browser would send).
	HTTPHeader http.Header
}

// ListenOptions configures Listen. The zero value is valid.
type ListenOptions struct {
	// MaxFrameSize bounds the frames read; ≤ 0 means DefaultMaxFrameSize.
	MaxFrameSize int
}

// Dial connects to addr and returns the framed connection, ready for
// Client. Addresses name their transport: "ws://host/path" and
// "wss://host/path" (WebSocket), "tcp://host:port", "unix:///path/to/socket".
func Dial(ctx context.Context, addr string, opts *DialOptions) (FrameConn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, errorf(service.KindInvalid, "peer address %q has no scheme (ws://, wss://, tcp://, unix://)", addr)
	}
	var d net.Dialer
	switch scheme {
	case "ws", "wss":
		return dialWebSocket(ctx, addr, opts)
	case "tcp":
		nc, err := d.DialContext(ctx, "tcp", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(nc, opts.MaxFrameSize), nil
	case "unix":
		nc, err := d.DialContext(ctx, "unix", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(nc, opts.MaxFrameSize), nil
	}
	return nil, errorf(service.KindInvalid, "peer address %q: unknown scheme %q", addr, scheme)
}

// dialError reports a failed dial as [service.KindUnavailable] (retryable) or, when
// ctx ended, as the context's kind. Its message names addr and the cause
// once: a *net.OpError already says "dial tcp host:port: ...", and the
// layers a WebSocket dial wraps around the cause (the library's, net/http's
// *url.Error) repeat what addr says.
func dialError(addr string, err error) error {
	var msg string
	var oe *net.OpError
	var ue *url.Error
	switch {
	case errors.As(err, &oe):
		msg = oe.Error()
	case errors.As(err, &ue):
		msg = fmt.Sprintf("dial %s: %v", addr, ue.Err)
	default:
		msg = fmt.Sprintf("dial %s: %v", addr, err)
	}
	se := wrapErr(service.KindUnavailable, msg, err)
	switch {
	case errors.Is(err, context.Canceled):
		se.Kind = service.KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		se.Kind = service.KindDeadlineExceeded
	}
	return se
}

// Listener accepts framed connections on a stream transport.
type Listener interface {
	// Accept waits for the next connection, ready for Server.
	Accept(ctx context.Context) (FrameConn, error)
	// Close stops listening (and removes a Unix socket's file).
	Close() error
	// Addr returns the address in the form Dial takes, such as
	// "tcp://127.0.0.1:40123".
	Addr() string
}

// Listen listens on addr: "tcp://host:port" (port 0 picks one; see
// Addr) or "unix:///path/to/socket". WebSocket is served by an
// http.Server instead: see NewWebSocketHandler.
func Listen(ctx context.Context, addr string, opts *ListenOptions) (Listener, error) {
	if opts == nil {
		opts = &ListenOptions{}
	}
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, errorf(service.KindInvalid, "peer address %q has no scheme (tcp://, unix://)", addr)
	}
	var network string
	switch scheme {
	case "tcp", "unix":
		network = scheme
	default:
		return nil, errorf(service.KindInvalid, "cannot listen on %q: scheme %q (use tcp:// or unix://, or NewWebSocketHandler)", addr, scheme)
	}
	var lc net.ListenConfig
	nl, err := lc.Listen(ctx, network, rest)
	if err != nil {
		return nil, wrapErr(service.KindUnavailable, fmt.Sprintf("listen %s: %v", addr, err), err)
	}
	return &listener{nl: nl, scheme: scheme, max: opts.MaxFrameSize}, nil
}

type listener struct {
	nl     net.Listener
	scheme string
	max    int
}

type deadliner interface{ SetDeadline(time.Time) error }

func (l *listener) Accept(ctx context.Context) (FrameConn, error) {
	dl, _ := l.nl.(deadliner)
	if dl != nil && ctx.Done() != nil {
		dl.SetDeadline(time.Time{})
		stop := context.AfterFunc(ctx, func() { dl.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	nc, err := l.nl.Accept()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError("accept", ctx)
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, wrapErr(service.KindUnavailable, "listener closed", err)
		}
		return nil, wrapErr(service.KindUnavailable, "accept: "+err.Error(), err)
	}
	return NewStreamConn(nc, l.max), nil
}

func (l *listener) Close() error { return l.nl.Close() }

func (l *listener) Addr() string {
	a := l.nl.Addr().String()
	if l.scheme == "unix" {
		return "unix://" + a
	}
	return "tcp://" + a
}
