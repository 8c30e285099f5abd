package remote

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
)

// Bounds and defaults of uploads and chunked reads (spec.md section 3).
const (
	MaxChunk              = 1 << 20   // bytes of one append, and of one read
	DefaultUploadTTL      = time.Hour // an upload not appended to for this long is dropped
	DefaultMaxUploads     = 4         // open uploads per identity
	DefaultMaxUploadBytes = 4 << 30   // sizes of an identity's open uploads, added up
)

// maxOpenUploads bounds the uploads open on a server, all identities
// together.
const maxOpenUploads = 1024

// An Upload is the state of a container being uploaded in chunks.
type Upload struct {
	// ID names the upload in append and publish; empty when the remote
	// has the container already, which needs no upload.
	ID      string    `glyph:"id"`
	Offset  int64     `glyph:"offset"`  // the bytes the remote holds: where the next append goes
	Size    int64     `glyph:"size"`    // the container's size; the upload is whole at Offset == Size
	Expires time.Time `glyph:"expires"` // when it is dropped unless appended to or published
}

// A Chunk is what read answers: part of a record, and the record's size.
type Chunk struct {
	Size int64  `glyph:"size"` // the whole record's size
	Data []byte `glyph:"data"` // the bytes from the offset asked for; short only at the end
}

// WithUploadDir keeps the chunks of uploads in dir (default a new
// temporary directory, removed by [Server.Close]). A server given the same
// dir and session key ([WithSessionKey]) after a restart resumes the
// uploads it had acknowledged: an upload's name and file are derived from
// the identity, the container's address and size.
func WithUploadDir(dir string) Option { return func(c *config) { c.uploadDir = dir } }

// WithUploadLimits bounds the open uploads of one identity: at most n at
// once (default [DefaultMaxUploads]) whose sizes add up to at most bytes
// (default [DefaultMaxUploadBytes]), which also bounds one container.
func WithUploadLimits(n int, bytes int64) Option {
	return func(c *config) { c.maxUploads, c.maxUploadBytes = n, bytes }
}

// WithUploadTTL drops an upload that nothing appended to or published for
// d (default [DefaultUploadTTL]), with its chunks.
func WithUploadTTL(d time.Duration) Option { return func(c *config) { c.uploadTTL = d } }

// uploads are the open uploads of a server, by id.
type uploads struct {
	mu   sync.Mutex // guards m
	dir  string
	temp bool // dir was made by New; Close removes it
	m    map[string]*upload
	last time.Time // of the last sweep
}

// upload is one open upload: its chunks go to a file, appended in order.
type upload struct {
	id    string
	owner record.Address
	addr  record.Address
	size  int64
	path  string

	mu      sync.Mutex // serialises appends, the check and publishing
	f       *os.File
	off     int64
	whole   bool // every byte is there and is the container addr names
	expires time.Time
	gone    bool // removed; whoever waited for mu finds it gone
}

func (u *upload) state() Upload {
	return Upload{ID: u.id, Offset: u.off, Size: u.size, Expires: u.expires}
}

// openUploads prepares the directory of the uploads, removing the files
// of uploads that expired while no server kept them.
func (s *Server) openUploads() error {
	s.ups.m = map[string]*upload{}
	if s.cfg.uploadDir == "" {
		dir, err := os.MkdirTemp("", "glyph-remote-uploads-")
		if err != nil {
			return fmt.Errorf("remote: %w", err)
		}
		s.ups.dir, s.ups.temp = dir, true
		return nil
	}
	s.ups.dir = s.cfg.uploadDir
	if err := os.MkdirAll(s.ups.dir, 0o700); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	entries, err := os.ReadDir(s.ups.dir)
	if err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".part") && s.now().Sub(info.ModTime()) > s.cfg.uploadTTL {
			os.Remove(filepath.Join(s.ups.dir, e.Name()))
		}
	}
	return nil
}

// closeUploads closes the files of the uploads, and removes them with
// their directory when New made it.
func (s *Server) closeUploads() {
	s.ups.mu.Lock()
	defer s.ups.mu.Unlock()
	for _, u := range s.ups.m {
		u.f.Close()
	}
	s.ups.m = map[string]*upload{}
	if s.ups.temp {
		os.RemoveAll(s.ups.dir)
	}
}

// uploadID names the upload of the container addr of size bytes by who:
// "u1." and the base64url of the first 18 bytes of an HMAC-SHA256 under
// the session key (spec.md).
func uploadID(key []byte, who, addr record.Address, size int64) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("glyph-remote-upload\x00"))
	mac.Write(who[:])
	mac.Write(addr[:])
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(size)))
	return "u1." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// beginUpload begins the upload of a container, or answers the state of
// the session's upload of it, to resume.
func (s *Server) beginUpload(ctx context.Context, session string, addr []byte, size int64) (Upload, error) {
	who, err := s.session(session)
	if err != nil {
		return Upload{}, err
	}
	a, err := address(addr)
	if err != nil {
		return Upload{}, err
	}
	switch {
	case size <= 0:
		return Upload{}, fail(ReasonMalformed, fmt.Sprintf("an upload's size is positive, not %d", size), nil)
	case size > s.cfg.maxUploadBytes:
		return Upload{}, fail(ReasonTooLarge, fmt.Sprintf("a container of %d bytes, more than %d", size, s.cfg.maxUploadBytes), nil)
	}
	m, err := s.st.Stat(ctx, a.Bytes())
	switch {
	case err == nil && m.Kind != store.KindContainer:
		return Upload{}, fail(ReasonMalformed, fmt.Sprintf("%s is a %s, not a container", a, m.Kind), nil)
	case err == nil && m.Size != size:
		return Upload{}, fail(ReasonTampered, fmt.Sprintf("container %s is %d bytes, not %d", a, m.Size, size), nil)
	case err == nil:
		return Upload{Offset: size, Size: size}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Upload{}, storeError(err)
	}
	s.sweepUploads()
	u, err := s.openUpload(who, a, size)
	if err != nil {
		return Upload{}, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gone {
		return Upload{}, fail(ReasonNotFound, fmt.Sprintf("upload %s ended meanwhile", u.id), nil)
	}
	u.expires = s.now().Add(s.cfg.uploadTTL)
	if u.off == u.size && !u.whole {
		// Resumed from its file after a restart, whole but not checked.
		if err := s.checkUpload(u); err != nil {
			s.dropUpload(u)
			return Upload{}, err
		}
	}
	return u.state(), nil
}

// openUpload returns the upload by who of the container addr, opening it
// within who's limits when it is not open.
func (s *Server) openUpload(who, addr record.Address, size int64) (*upload, error) {
	id := uploadID(s.cfg.sessionKey, who, addr, size)
	s.ups.mu.Lock()
	defer s.ups.mu.Unlock()
	if u := s.ups.m[id]; u != nil {
		return u, nil
	}
	n, total := 0, size
	for _, u := range s.ups.m {
		if u.owner == who {
			n, total = n+1, total+u.size
		}
	}
	if len(s.ups.m) >= maxOpenUploads {
		return nil, fail(ReasonOverloaded, fmt.Sprintf("the server has %d uploads open, the most it keeps; retry later", len(s.ups.m)), nil)
	}
	if n >= s.cfg.maxUploads {
		return nil, fail(ReasonQuota, fmt.Sprintf("%s has %d uploads open, the most it may", who, n), nil)
	}
	if total > s.cfg.maxUploadBytes {
		return nil, fail(ReasonQuota, fmt.Sprintf("%s's open uploads would add up to %d bytes, more than %d", who, total, s.cfg.maxUploadBytes), nil)
	}
	path := filepath.Join(s.ups.dir, strings.TrimPrefix(id, "u1.")+".part")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("remote: upload: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("remote: upload: %w", err)
	}
	off := info.Size()
	if off > size {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("remote: upload: %w", err)
		}
		off = 0
	}
	u := &upload{id: id, owner: who, addr: addr, size: size, path: path, f: f, off: off}
	s.ups.m[id] = u
	return u, nil
}

// appendUpload writes a chunk at the end of an upload, and checks the
// container once the upload is whole.
func (s *Server) appendUpload(ctx context.Context, session, id string, offset int64, data []byte) (Upload, error) {
	who, err := s.session(session)
	if err != nil {
		return Upload{}, err
	}
	switch {
	case len(data) == 0:
		return Upload{}, fail(ReasonMalformed, "an empty chunk", nil)
	case len(data) > MaxChunk:
		return Upload{}, fail(ReasonTooLarge, fmt.Sprintf("a chunk of %d bytes, more than %d", len(data), MaxChunk), nil)
	}
	s.sweepUploads()
	u, err := s.lockUpload(who, id)
	if err != nil {
		return Upload{}, err
	}
	defer u.mu.Unlock()
	switch {
	case offset != u.off:
		return Upload{}, fail(ReasonOffset, fmt.Sprintf("upload %s holds %d bytes, a chunk at %d does not follow", id, u.off, offset), nil)
	case offset+int64(len(data)) > u.size:
		return Upload{}, fail(ReasonTooLarge, fmt.Sprintf("a chunk ending at %d, past the upload's size %d", offset+int64(len(data)), u.size), nil)
	}
	if _, err := u.f.WriteAt(data, offset); err != nil {
		return Upload{}, fmt.Errorf("remote: upload: %w", err)
	}
	// Acknowledged bytes survive a crash.
	if err := u.f.Sync(); err != nil {
		return Upload{}, fmt.Errorf("remote: upload: %w", err)
	}
	u.off += int64(len(data))
	u.expires = s.now().Add(s.cfg.uploadTTL)
	if u.off == u.size {
		if err := s.checkUpload(u); err != nil {
			s.dropUpload(u)
			return Upload{}, err
		}
	}
	return u.state(), nil
}

// lockUpload returns who's open upload id, locked.
func (s *Server) lockUpload(who record.Address, id string) (*upload, error) {
	s.ups.mu.Lock()
	u := s.ups.m[id]
	s.ups.mu.Unlock()
	if u == nil {
		return nil, fail(ReasonNotFound, fmt.Sprintf("no upload %.40q: it was published, expired or never began", id), nil)
	}
	if u.owner != who {
		return nil, fail(ReasonUnauthorised, fmt.Sprintf("upload %s is another identity's", id), nil)
	}
	u.mu.Lock()
	if u.gone {
		u.mu.Unlock()
		return nil, fail(ReasonNotFound, fmt.Sprintf("upload %s ended meanwhile", id), nil)
	}
	return u, nil
}

// checkUpload checks that a whole upload is the container its address
// names, reading it as a stream: its header, the sizes of its segments,
// its canonical form and its address (record.ParseContainer).
func (s *Server) checkUpload(u *upload) error {
	in, err := record.ParseContainer(bufio.NewReaderSize(io.NewSectionReader(u.f, 0, u.size), 64<<10))
	switch {
	case err != nil:
		return recordError(err)
	case in.Size != u.size:
		return fail(ReasonMalformed, fmt.Sprintf("%d bytes after the container's end", u.size-in.Size), nil)
	case in.Address != u.addr:
		return fail(ReasonTampered, fmt.Sprintf("the upload's bytes are container %s, not %s", in.Address, u.addr), nil)
	}
	u.whole = true
	return nil
}

// dropUpload removes an upload, which the caller has locked, and its file.
func (s *Server) dropUpload(u *upload) {
	s.ups.mu.Lock()
	if s.ups.m[u.id] == u {
		delete(s.ups.m, u.id)
	}
	s.ups.mu.Unlock()
	u.gone = true
	u.f.Close()
	os.Remove(u.path)
}

// sweepUploads drops the uploads that expired and that no call is using;
// every call about uploads sweeps, at most every quarter of the TTL.
func (s *Server) sweepUploads() {
	now := s.now()
	s.ups.mu.Lock()
	if now.Sub(s.ups.last) < s.cfg.uploadTTL/4 {
		s.ups.mu.Unlock()
		return
	}
	s.ups.last = now
	var old []*upload
	for _, u := range s.ups.m {
		if u.mu.TryLock() {
			if now.After(u.expires) {
				old = append(old, u)
			} else {
				u.mu.Unlock()
			}
		}
	}
	s.ups.mu.Unlock()
	for _, u := range old {
		s.dropUpload(u)
		u.mu.Unlock()
	}
}

// takeUploads locks the whole uploads of who that a publish call names
// and returns them, in the call's order, with their infos. It locks them
// in the order of their ids, so that two calls naming the same uploads
// in other orders do not wait for each other.
func (s *Server) takeUploads(who record.Address, ids []string) ([]*upload, []*record.Info, error) {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
	ups := make([]*upload, len(ids))
	release := func() {
		for _, u := range ups {
			if u != nil {
				u.mu.Unlock()
			}
		}
	}
	for k, i := range order {
		if k > 0 && ids[order[k-1]] == ids[i] {
			release()
			return nil, nil, atUpload(i, fail(ReasonMalformed, fmt.Sprintf("upload %s named twice", ids[i]), nil))
		}
		u, err := s.lockUpload(who, ids[i])
		if err != nil {
			release()
			return nil, nil, atUpload(i, err)
		}
		ups[i] = u
	}
	infos := make([]*record.Info, len(ids))
	for i, u := range ups {
		if !u.whole {
			release()
			return nil, nil, atUpload(i, fail(ReasonIncomplete, fmt.Sprintf("upload %s holds %d of its %d bytes", u.id, u.off, u.size), nil))
		}
		infos[i] = &record.Info{Kind: record.KindContainer, Address: u.addr, Size: u.size}
	}
	return ups, infos, nil
}

// readChunk answers up to length bytes of the record at addr from
// offset. Reading a record in order from its start continues one read of
// the store, so a large container costs one pass.
func (s *Server) readChunk(ctx context.Context, session string, addr []byte, offset, length int64) (Chunk, error) {
	who, err := s.session(session)
	if err != nil {
		return Chunk{}, err
	}
	a, err := address(addr)
	if err != nil {
		return Chunk{}, err
	}
	switch {
	case offset < 0:
		return Chunk{}, fail(ReasonMalformed, fmt.Sprintf("offset %d", offset), nil)
	case length <= 0 || length > MaxChunk:
		return Chunk{}, fail(ReasonMalformed, fmt.Sprintf("a read of 1 to %d bytes, not %d", MaxChunk, length), nil)
	}
	key := readKey{who, a}
	r := s.reads.take(key)
	if r != nil && r.pos != offset {
		r.rc.Close()
		r = nil
	}
	if r == nil {
		m, body, err := s.st.Get(ctx, a.Bytes())
		if err != nil {
			return Chunk{}, storeError(err)
		}
		if !s.mayRead(who, m) {
			body.Close()
			return Chunk{}, fail(ReasonUnauthorised, fmt.Sprintf("share %s is neither from nor to %s", a, who), nil)
		}
		if offset > m.Size {
			body.Close()
			return Chunk{}, fail(ReasonMalformed, fmt.Sprintf("offset %d, past the record's %d bytes", offset, m.Size), nil)
		}
		if _, err := io.CopyN(io.Discard, body, offset); err != nil {
			body.Close()
			return Chunk{}, storeError(err)
		}
		r = &openRead{rc: body, pos: offset, size: m.Size}
	}
	data := make([]byte, min(length, r.size-r.pos))
	if _, err := io.ReadFull(r.rc, data); err != nil {
		r.rc.Close()
		return Chunk{}, storeError(err)
	}
	r.pos += int64(len(data))
	if r.pos < r.size {
		r.used = s.now()
		s.reads.put(key, r, s.now())
		return Chunk{Size: r.size, Data: data}, nil
	}
	// At the end the store checks the record against its hash.
	var b [1]byte
	_, err = io.ReadFull(r.rc, b[:])
	r.rc.Close()
	if err != io.EOF {
		if err == nil {
			err = fmt.Errorf("remote: record %s is longer than its %d bytes", a, r.size)
		}
		return Chunk{}, storeError(err)
	}
	return Chunk{Size: r.size, Data: data}, nil
}

// Bounds of the reads a server keeps open between read calls.
const (
	maxOpenReads   = 256
	maxOpenReadsID = 4
	openReadTTL    = time.Minute
)

type readKey struct{ who, addr record.Address }

// openRead is a read of a record that the next read call continues.
type openRead struct {
	rc   io.ReadCloser
	pos  int64
	size int64
	used time.Time
}

// reads are the open reads of a server.
type reads struct {
	mu sync.Mutex // guards m
	m  map[readKey]*openRead
}

// take removes and returns the open read of key, if any.
func (rs *reads) take(key readKey) *openRead {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.m[key]
	delete(rs.m, key)
	return r
}

// put keeps r for the next read call, closing reads unused for a
// minute and the oldest beyond the bounds.
func (rs *reads) put(key readKey, r *openRead, now time.Time) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = map[readKey]*openRead{}
	}
	if old := rs.m[key]; old != nil {
		old.rc.Close()
	}
	rs.m[key] = r
	for k, o := range rs.m {
		if now.Sub(o.used) > openReadTTL {
			o.rc.Close()
			delete(rs.m, k)
		}
	}
	for {
		mine := 0
		for k := range rs.m {
			if k.who == key.who {
				mine++
			}
		}
		if len(rs.m) <= maxOpenReads && mine <= maxOpenReadsID {
			return
		}
		// Close the oldest other read: the identity's own when it has
		// too many, else anyone's.
		var victim readKey
		found := false
		for k, o := range rs.m {
			if k == key || (mine > maxOpenReadsID && k.who != key.who) {
				continue
			}
			if !found || o.used.Before(rs.m[victim].used) {
				victim, found = k, true
			}
		}
		if !found {
			return
		}
		rs.m[victim].rc.Close()
		delete(rs.m, victim)
	}
}

// closeAll closes the open reads.
func (rs *reads) closeAll() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k, r := range rs.m {
		r.rc.Close()
		delete(rs.m, k)
	}
}
