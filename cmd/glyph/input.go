package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/glyph-ipc/glyph/wire"
)

// messageInput reads exactly one hyperglyph message from a stream, such as
// stdin: a root object, its blob trailers, then nothing but whitespace.
type messageInput struct {
	in  *countingReader
	dec *wire.Decoder
}

func newMessageInput(r io.Reader) *messageInput {
	in := &countingReader{r: r}
	return &messageInput{in: in, dec: wire.NewDecoderConfig(in, wire.DecodeConfig{RawExtensions: true})}
}

// decode reads the root object. Blobs in it stream from the input as they
// are read; end checks what follows once they have been.
func (m *messageInput) decode() (any, error) {
	var v any
	err := m.dec.Decode(&v)
	if errors.Is(err, io.EOF) {
		// Decode reports a stream that ends before any message as a clean
		// io.EOF; for a single message that is an error like any other
		// truncation.
		return nil, &wire.SyntaxError{Offset: m.in.n, Msg: "unexpected end of input, expected a value"}
	}
	return v, err
}

// end reads the rest of the message's blob trailers and then checks that
// only whitespace follows the message.
func (m *messageInput) end() error {
	if err := m.dec.Finish(); err != nil {
		return err
	}
	buffered, err := io.ReadAll(m.dec.Buffered())
	if err != nil {
		return err
	}
	off := m.in.n - int64(len(buffered))
	if err := onlyWhitespace(buffered, off); err != nil {
		return err
	}
	off += int64(len(buffered))
	buf := make([]byte, 4096)
	for {
		n, err := m.in.Read(buf)
		if werr := onlyWhitespace(buf[:n], off); werr != nil {
			return werr
		}
		off += int64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading input at byte %d: %w", off, err)
		}
	}
}

// close releases the blobs of the message.
func (m *messageInput) close() { m.dec.Close() }

// onlyWhitespace reports a syntax error at the first byte of p that is not
// hyperglyph whitespace; off is the input offset of p[0].
func onlyWhitespace(p []byte, off int64) error {
	for i, c := range p {
		switch c {
		case ' ', '\t', '\n', '\r', '\v':
			continue
		case 'c':
			return &wire.SyntaxError{Offset: off + int64(i), Msg: "found a chunk record after the end of the message, but no blob is pending"}
		}
		return &wire.SyntaxError{Offset: off + int64(i), Msg: fmt.Sprintf("found %s after the end of the message, expected only whitespace", quoteByte(c))}
	}
	return nil
}

// quoteByte names a byte the way the wire package's errors do.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// countingReader counts the bytes read through it, so that errors after
// the message can name their offset in the input.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
