package remote

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/record"
)

// PublishContainer uploads the container at addr, of size bytes, that r
// yields (as [record.Seal] wrote it) in chunks of [MaxChunk], then
// publishes it before records, which must keep it alive (a frame, binding
// or hold), in one publish call. Neither side holds the container whole:
// the client one chunk, the remote a file it checks as a stream.
//
// The first result is the container's; when the remote had it already,
// nothing is uploaded and it is Existed, with Seq 0. An upload the
// connection broke off resumes where the remote's acknowledged bytes end,
// in this call or a later one for the same container (r is then read from
// its start again and the bytes the remote has are skipped).
func (c *Client) PublishContainer(ctx context.Context, addr record.Address, size int64, r io.Reader, records ...[]byte) ([]Published, error) {
	begin := func() (Upload, error) {
		return call(ctx, c, func(a api, tok string) (Upload, error) { return a.Upload(ctx, tok, addr.Bytes(), size) })
	}
	up, err := begin()
	if err != nil {
		return nil, err
	}
	if up.ID == "" {
		out, err := c.Publish(ctx, records...)
		return append([]Published{{Address: addr.Bytes(), Existed: true}}, out...), err
	}
	if _, err := io.CopyN(io.Discard, r, up.Offset); err != nil {
		return nil, fmt.Errorf("remote: the container's reader: %w", err)
	}
	buf := make([]byte, min(size, MaxChunk))
	for off := up.Offset; off < size; {
		chunk := buf[:min(size-off, MaxChunk)]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, fmt.Errorf("remote: the container's reader ends before its %d bytes: %w", size, err)
		}
		up, err = call(ctx, c, func(a api, tok string) (Upload, error) { return a.Append(ctx, tok, up.ID, off, chunk) })
		if ReasonOf(err) == ReasonOffset {
			// The remote took the chunk but its answer was lost, or
			// it holds less than this client thinks: ask where it is.
			if up, err = begin(); err == nil && up.Offset != off+int64(len(chunk)) {
				err = fmt.Errorf("remote: upload %s holds %d bytes, this client sent %d", up.ID, up.Offset, off)
			}
		}
		if err != nil {
			return nil, err
		}
		off = up.Offset
	}
	if _, err := io.ReadFull(r, buf[:1]); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("remote: the container's reader holds more than its %d bytes", size)
	}
	return call(ctx, c, func(a api, tok string) ([]Published, error) {
		return a.PublishNamed(ctx, client.Named{"session": tok, "records": records, "uploads": []string{up.ID}})
	})
}

// GetContainer returns the bytes of the record at addr, a container of
// any size, read from the remote in chunks of [MaxChunk] as the caller
// reads: the client holds one chunk. It asks for the first chunk at once,
// so that a missing record fails here; ctx bounds the whole read. The
// remote checks the record against its hash as it sends the end: the last
// Read fails, instead of ending, if the stored bytes were corrupted.
// Give the bytes to [record.Open], which checks the address too.
func (c *Client) GetContainer(ctx context.Context, addr record.Address) (io.ReadCloser, error) {
	cr := &containerReader{ctx: ctx, c: c, addr: addr, size: -1}
	if err := cr.fill(); err != nil {
		return nil, err
	}
	return cr, nil
}

// containerReader reads a record in chunks.
type containerReader struct {
	ctx  context.Context
	c    *Client
	addr record.Address
	off  int64 // the offset of the next chunk
	size int64 // the record's size, -1 until the first chunk
	buf  []byte
	err  error
}

func (r *containerReader) fill() error {
	off := r.off
	ch, err := call(r.ctx, r.c, func(a api, tok string) (Chunk, error) {
		return a.Read(r.ctx, tok, r.addr.Bytes(), off, MaxChunk)
	})
	switch {
	case err != nil:
		return err
	case r.size >= 0 && ch.Size != r.size:
		return fmt.Errorf("remote: record %s changed size while read, from %d to %d bytes", r.addr, r.size, ch.Size)
	case len(ch.Data) == 0 && off < ch.Size, off+int64(len(ch.Data)) > ch.Size:
		return fmt.Errorf("remote: record %s: %d bytes at %d of %d", r.addr, len(ch.Data), off, ch.Size)
	}
	r.size, r.buf, r.off = ch.Size, ch.Data, off+int64(len(ch.Data))
	return nil
}

// Read reads the record's bytes.
func (r *containerReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.off == r.size {
			return 0, io.EOF
		}
		if r.err = r.fill(); r.err != nil {
			return 0, r.err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close ends the read; the remote closes its side of a read left
// unfinished within a minute.
func (r *containerReader) Close() error {
	r.err, r.buf = errors.New("remote: read after Close"), nil
	return nil
}
