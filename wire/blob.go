package wire

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
)

// Blob is binary content with a content type: the streaming type of
// hyperglyph. On the wire a blob is a placeholder in the message
// (`B id : attrs ;`) and its bytes follow the root object in chunks, so
// neither the encoder nor the decoder needs to hold it in memory.
//
// A Blob made by NewBlob is read once, when it is encoded. A Blob made by
// BytesBlob can be encoded any number of times. A Blob returned by the
// decoder streams from the decoder's input: Read it while the decoder
// keeps going, Close it to discard what is left.
type Blob struct {
	// ContentType is the `content-type` attribute; never empty on the wire
	// (the encoder sends application/octet-stream when it is empty).
	ContentType string
	// Attrs holds the other attributes, such as "url"; may be nil.
	Attrs map[string]any

	data    []byte    // content of a BytesBlob
	hasData bool      // data is the whole content and can be re-read
	r       io.Reader // content of a NewBlob
	rd      io.Reader // reader returned content for Read; lazily set
	in      *blobIn   // non-nil for a decoded blob
}

// NewBlob returns a blob whose content is read from r when the blob is
// encoded. If r is an io.Closer it is closed once it has been sent.
func NewBlob(contentType string, r io.Reader) *Blob {
	return &Blob{ContentType: contentType, r: r}
}

// BytesBlob returns a blob holding data.
func BytesBlob(contentType string, data []byte) *Blob {
	return &Blob{ContentType: contentType, data: data, hasData: true}
}

// URL returns the blob's `url` attribute, or "".
func (b *Blob) URL() string {
	s, _ := b.Attrs["url"].(string)
	return s
}

// Read reads the blob's content.
func (b *Blob) Read(p []byte) (int, error) {
	if b.in != nil {
		return b.in.read(p)
	}
	if b.rd == nil {
		if b.hasData {
			b.rd = bytes.NewReader(b.data)
		} else if b.r != nil {
			b.rd = b.r
		} else {
			return 0, io.EOF
		}
	}
	return b.rd.Read(p)
}

// copyBufSize is the size of the buffers WriteTo copies through: large
// enough that a blob crossing a socket takes few system calls.
const copyBufSize = 256 << 10

var copyBufPool = sync.Pool{New: func() any {
	b := make([]byte, copyBufSize)
	return &b
}}

// WriteTo writes the rest of the blob's content to w, as reading it to
// the end would, so that io.Copy from a blob takes a path of few copies
// and few system calls: content in memory (a BytesBlob, a bytes.Reader,
// any reader that is an io.WriterTo) is handed to w as it is, and any
// other goes through a pooled buffer of 256 KiB (io.Copy's own is 32 KiB,
// and io.Discard reads 8 KiB at a time).
func (b *Blob) WriteTo(w io.Writer) (int64, error) {
	if b.in == nil {
		if b.rd == nil {
			switch {
			case b.hasData:
				b.rd = bytes.NewReader(b.data)
			case b.r != nil:
				b.rd = b.r
			default:
				return 0, nil
			}
		}
		if wt, ok := b.rd.(io.WriterTo); ok {
			return wt.WriteTo(w)
		}
	}
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	// Neither side may pick its own path (w's ReadFrom, the blob's
	// WriteTo): the buffer is the point.
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{b}, *bp)
}

// Close releases the blob. For a decoded blob the rest of its content is
// discarded as it arrives; for a blob made from a reader, the reader is
// closed if it is an io.Closer.
func (b *Blob) Close() error {
	if b.in != nil {
		b.in.close()
		return nil
	}
	if c, ok := b.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Bytes reads the whole content. For a blob made by BytesBlob it returns
// the bytes without copying.
func (b *Blob) Bytes() ([]byte, error) {
	if b.hasData && b.in == nil {
		return b.data, nil
	}
	return io.ReadAll(b)
}

// source returns the reader the encoder sends content from.
func (b *Blob) source() io.Reader {
	if b.in != nil {
		return b
	}
	if b.hasData {
		return bytes.NewReader(b.data)
	}
	if b.r == nil {
		return bytes.NewReader(nil)
	}
	return b.r
}

// message tracks the blobs of one decoded message while their chunks
// arrive. All fields are guarded by mu, which also guards the parser
// while trailers are read on behalf of a blob reader.
type message struct {
	mu      sync.Mutex
	d       *decodeState
	blobs   []*blobIn          // in order of appearance
	byID    map[string]*blobIn // index of blobs, once there are many
	open    int                // blobs without their end chunk yet
	total   int64              // blob bytes seen so far
	err     error              // sticky failure of the trailers
	memUsed int64              // bytes spooled in memory, all blobs together

	// current chunk being read
	cur       *blobIn
	remaining int64
	chunkOff  int64

	// Room for the first blob, so that a message with one blob costs one
	// allocation.
	first   blobIn
	blobArr [1]*blobIn
}

// blobIn is the decoder side of one blob.
type blobIn struct {
	m      *message
	id     string
	ended  bool // end chunk seen
	closed bool // the caller closed it: discard data
	blob   Blob // what the caller reads this blob through; blob.in is this

	mem      []byte // spooled in memory, unread part starts at memR
	memR     int
	file     *os.File // spool file once memory spooling stopped
	fileR    int64
	fileW    int64
	spoolErr error
}

// indexBlobsAbove is how many blobs a message holds before their ids are
// looked up in a map rather than by scanning.
const indexBlobsAbove = 8

func newMessage(d *decodeState) *message {
	m := &message{d: d}
	m.blobs = m.blobArr[:0]
	return m
}

// lookup returns the blob with id, or nil.
func (m *message) lookup(id string) *blobIn {
	if m.byID != nil {
		return m.byID[id]
	}
	for _, b := range m.blobs {
		if b.id == id {
			return b
		}
	}
	return nil
}

func (m *message) add(id string) (*blobIn, error) {
	if m.lookup(id) != nil {
		return nil, errors.New("duplicate blob id " + id)
	}
	if len(m.blobs) >= m.d.lim.MaxBlobs {
		return nil, &LimitError{Limit: "MaxBlobs", Max: int64(m.d.lim.MaxBlobs), Offset: m.d.off()}
	}
	var b *blobIn
	if len(m.blobs) == 0 {
		b = &m.first
	} else {
		b = new(blobIn)
	}
	b.m, b.id = m, id
	b.blob.in = b
	m.blobs = append(m.blobs, b)
	if m.byID != nil {
		m.byID[id] = b
	} else if len(m.blobs) > indexBlobsAbove {
		m.byID = make(map[string]*blobIn, 2*len(m.blobs))
		for _, b := range m.blobs {
			m.byID[b.id] = b
		}
	}
	m.open++
	return b, nil
}

func (m *message) done() bool { return m.open == 0 && m.cur == nil }

func (m *message) fail(err error) error {
	if m.err == nil {
		m.err = err
	}
	return m.err
}

// step reads the next piece of the trailers: a chunk header, an end chunk,
// or up to len(p) bytes of the current chunk's data. If the data belongs
// to want and p is not nil, it goes straight into p; otherwise it is
// spooled (or discarded for closed blobs). It returns how many bytes were
// put in p.
func (m *message) step(want *blobIn, p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	d := m.d
	if m.cur != nil {
		b := m.cur
		if m.remaining == 0 {
			if err := d.expect(';', "';' after chunk data"); err != nil {
				return 0, m.fail(err)
			}
			m.cur = nil
			return 0, nil
		}
		if b == want && p != nil {
			n := int(min(int64(len(p)), m.remaining))
			n, err := d.readRaw(p[:n])
			m.remaining -= int64(n)
			if err != nil {
				return n, m.fail(err)
			}
			return n, nil
		}
		// Pump into the spool of b, through the parser's buffer.
		if d.pos >= len(d.buf) && !d.fill() {
			return 0, m.fail(d.eofErr("chunk data"))
		}
		n := int(min(int64(len(d.buf)-d.pos), m.remaining))
		chunk := d.buf[d.pos : d.pos+n]
		d.pos += n
		m.remaining -= int64(n)
		if !b.closed {
			if err := b.spool(chunk); err != nil {
				return 0, m.fail(err)
			}
		}
		return 0, nil
	}
	if m.open == 0 {
		return 0, nil
	}
	if !d.skipWS() {
		return 0, m.fail(d.eofErr("a chunk record"))
	}
	start := d.off()
	if err := d.expect('c', "a chunk record 'c'"); err != nil {
		return 0, m.fail(err)
	}
	id, err := d.blobID("chunk")
	if err != nil {
		return 0, m.fail(err)
	}
	b := m.lookup(id)
	if b == nil {
		return 0, m.fail(d.syntaxAt(start, "chunk for unknown blob id %s", id))
	}
	if b.ended {
		return 0, m.fail(d.syntaxAt(start, "chunk for blob id %s after its end chunk", id))
	}
	c, err := d.next("':' or ';' after chunk id")
	if err != nil {
		return 0, m.fail(err)
	}
	if c == ';' {
		b.ended = true
		m.open--
		return 0, nil
	}
	if c != ':' {
		d.pos--
		return 0, m.fail(d.syntax("found %s after chunk id, expected ':' or ';'", quoteByte(c)))
	}
	n, err := d.decimal("chunk length")
	if err != nil {
		return 0, m.fail(err)
	}
	if err := d.expect(':', "':' after chunk length"); err != nil {
		return 0, m.fail(err)
	}
	if n > d.lim.MaxBlobBytes-m.total {
		return 0, m.fail(&LimitError{Limit: "MaxBlobBytes", Max: d.lim.MaxBlobBytes, Offset: start})
	}
	m.total += n
	m.cur, m.remaining, m.chunkOff = b, n, start
	return 0, nil
}

// finish reads the rest of the trailers, spooling what the caller has not
// read yet.
func (m *message) finish() error {
	for !m.done() {
		if _, err := m.step(nil, nil); err != nil {
			return err
		}
	}
	return m.err
}

func (b *blobIn) spool(p []byte) error {
	if b.spoolErr != nil {
		return b.spoolErr
	}
	m := b.m
	if b.file == nil {
		limit := m.d.cfg.SpoolThreshold
		if limit == 0 {
			limit = defaultSpoolThreshold
		}
		if limit < 0 || m.memUsed+int64(len(p)) <= limit {
			b.mem = append(b.mem, p...)
			m.memUsed += int64(len(p))
			return nil
		}
		f, err := os.CreateTemp(m.d.cfg.TempDir, "glyph-blob-*")
		if err != nil {
			b.spoolErr = err
			return err
		}
		// Unlink at once: the file lives only as long as it is open.
		os.Remove(f.Name())
		b.file = f
		unread := b.mem[b.memR:]
		if _, err := f.WriteAt(unread, 0); err != nil {
			b.spoolErr = err
			return err
		}
		b.fileW = int64(len(unread))
		m.memUsed -= int64(len(b.mem))
		b.mem, b.memR = nil, 0
	}
	if _, err := b.file.WriteAt(p, b.fileW); err != nil {
		b.spoolErr = err
		return err
	}
	b.fileW += int64(len(p))
	return nil
}

// readSpool reads already spooled bytes; it returns 0 when there are none.
func (b *blobIn) readSpool(p []byte) (int, error) {
	if b.memR < len(b.mem) {
		n := copy(p, b.mem[b.memR:])
		b.memR += n
		if b.memR == len(b.mem) {
			b.m.memUsed -= int64(len(b.mem))
			b.mem, b.memR = nil, 0
		}
		return n, nil
	}
	if b.file != nil && b.fileR < b.fileW {
		n := int(min(int64(len(p)), b.fileW-b.fileR))
		n, err := b.file.ReadAt(p[:n], b.fileR)
		b.fileR += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		if b.fileR == b.fileW && b.ended {
			b.releaseFile()
		}
		return n, nil
	}
	return 0, nil
}

func (b *blobIn) releaseFile() {
	if b.file != nil {
		b.file.Close()
		b.file = nil
		b.fileR, b.fileW = 0, 0
	}
}

func (b *blobIn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if b.closed {
		return 0, errors.New("glyph: read from closed blob")
	}
	for {
		if n, err := b.readSpool(p); n > 0 || err != nil {
			return n, err
		}
		if b.spoolErr != nil {
			return 0, b.spoolErr
		}
		if b.ended {
			b.releaseFile()
			if m.cur == b {
				// impossible: an ended blob has no current chunk
				return 0, io.ErrUnexpectedEOF
			}
			return 0, io.EOF
		}
		if m.err != nil {
			b.releaseFile() // spool drained; no more data will come
			return 0, m.err
		}
		n, err := m.step(b, p)
		if n > 0 || err != nil {
			return n, err
		}
	}
}

func (b *blobIn) close() {
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	b.closed = true
	m.memUsed -= int64(len(b.mem))
	b.mem, b.memR = nil, 0
	b.releaseFile()
}

// readRaw reads exactly len(p) bytes of chunk data, first from the
// parser's buffer, then directly from the stream.
func (d *decodeState) readRaw(p []byte) (int, error) {
	n := copy(p, d.buf[d.pos:])
	d.pos += n
	if n == len(p) {
		return n, nil
	}
	if d.r == nil || d.rerr != nil {
		return n, d.eofErr("chunk data")
	}
	// Large reads bypass the buffer; small ones refill it.
	if len(p)-n >= 4096 {
		m, err := io.ReadFull(d.r, p[n:])
		d.base += int64(m)
		if err != nil {
			d.rerr = err
			if errors.Is(err, io.EOF) {
				d.rerr = io.ErrUnexpectedEOF
			}
			return n + m, d.eofErr("chunk data")
		}
		return len(p), nil
	}
	for n < len(p) {
		if !d.fill() {
			return n, d.eofErr("chunk data")
		}
		k := copy(p[n:], d.buf[d.pos:])
		d.pos += k
		n += k
	}
	return n, nil
}

// decimal parses an unsigned decimal without sign or leading zeros.
func (d *decodeState) decimal(what string) (int64, error) {
	var n int64
	digits := 0
	for {
		c, err := d.peek(what)
		if err != nil {
			return 0, err
		}
		if c < '0' || c > '9' {
			break
		}
		if digits > 0 && n == 0 {
			return 0, d.syntax("%s has a leading zero", what)
		}
		if digits >= 18 {
			return 0, d.syntax("%s too long", what)
		}
		n = n*10 + int64(c-'0')
		digits++
		d.pos++
	}
	if digits == 0 {
		c, _ := d.peek(what)
		return 0, d.syntax("found %s, expected %s", quoteByte(c), what)
	}
	return n, nil
}

// blobID parses a blob or chunk id: decimal digits.
func (d *decodeState) blobID(what string) (string, error) {
	var id [20]byte
	n := 0
	for {
		c, err := d.peek(what + " id")
		if err != nil {
			return "", err
		}
		if c < '0' || c > '9' {
			break
		}
		if n == len(id) {
			return "", d.syntax("%s id too long", what)
		}
		id[n] = c
		n++
		d.pos++
	}
	if n == 0 {
		c, _ := d.peek(what)
		return "", d.syntax("found %s, expected a %s id", quoteByte(c), what)
	}
	return string(id[:n]), nil
}
