package peer

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// maxStreamFrame is the most the stream framing can say: the length has
// 31 bits.
const maxStreamFrame = 1<<31 - 1

// maxCopiedBatch is the largest batch a stream transport over a net.Conn
// copies into one buffer to write; larger ones go out with writev.
const maxCopiedBatch = 64 << 10

// NewStreamConn returns a [FrameConn] that frames a byte stream (TCP, a
// Unix socket, stdio) as spec.md section 2 says: each frame is a 4-byte
// big-endian header, whose top bit marks a text frame and whose other 31
// bits are the length, then the data. Frames longer than maxFrame (≤ 0
// means [DefaultMaxFrameSize]) are refused on read before anything is
// allocated for them.
//
// A frame ReadFrame returns is a slice of the connection's read buffer,
// valid until the next ReadFrame. When rwc is a net.Conn, ReadFrame and
// WriteFrames honour their ctx through deadlines, and a batch over
// 64 KiB is written with writev; otherwise ctx bounds nothing. Smaller
// batches are copied into one buffer and written at once. When rwc is a
// *tls.Conn (as [Dial] and [Listen] make for "tls://"), [Client] and
// [Server] run its TLS handshake first, and [Conn.TLS] reports its state;
// when it is a *net.UnixConn, [Conn.PeerCred] the remote process's
// credentials.
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
		switch t := nc.(type) {
		case *tls.Conn:
			c.tls = t
			c.local, c.remote = tlsAddr(c.local), tlsAddr(c.remote)
		case *net.UnixConn:
			c.cred = peerCred(t)
		}
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
	onClose       func()    // run once when closed: a listener's count of its connections
	tls           *tls.Conn // rwc, over TCP, for "tls://"
	cred          *PeerCred // the remote process's, on a Unix socket (Linux)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.Network() + "://" + a.String()
}

// tlsAddr turns "tcp://host:port" into "tls://host:port", the address
// Dial takes for it.
func tlsAddr(a string) string {
	if rest, ok := strings.CutPrefix(a, "tcp://"); ok {
		return "tls://" + rest
	}
	return a
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
		f.Data, f.own = b, true
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

// readData reads n bytes of frame data into a buffer of its own. It
// allocates the buffer once the read buffer is full of the frame's first
// bytes, so that a header alone does not make us allocate the whole
// frame (a remote that stops after the header holds nothing more; one
// that stops later, at most the frame limit, which the package doc
// counts), and a large item is read in place rather than copied.
func (c *streamConn) readData(n int) ([]byte, error) {
	if _, err := c.br.Peek(min(n, c.br.Size())); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
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
	c.closeOnce.Do(func() {
		c.closeErr = c.rwc.Close()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return c.closeErr
}

func (c *streamConn) LocalAddr() string  { return c.local }
func (c *streamConn) RemoteAddr() string { return c.remote }
