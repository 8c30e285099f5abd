package remote_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
)

// rawAPI calls the remote's upload functions one by one, as a client of
// another language would.
type rawAPI struct {
	Upload  func(context.Context, string, []byte, int64) (remote.Upload, error)
	Append  func(context.Context, string, string, int64, []byte) (remote.Upload, error)
	Read    func(context.Context, string, []byte, int64, int64) (remote.Chunk, error)
	Publish func(context.Context, client.Named) ([]remote.Published, error)
}

func rawClient(t testing.TB, url string) rawAPI {
	t.Helper()
	gc := client.New()
	t.Cleanup(func() { gc.Close() })
	index, err := gc.Get(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	var api rawAPI
	if err := index.Bind(&api); err != nil {
		t.Fatal(err)
	}
	return api
}

// bigContainer seals n random bytes in segments of 1 MiB.
func bigContainer(t testing.TB, n int) (content, container []byte, addr record.Address, key record.EpochKey) {
	t.Helper()
	content = make([]byte, n)
	rand.Read(content)
	key = record.NewEpochKey(0)
	var buf bytes.Buffer
	addr, err := record.Seal(&buf, bytes.NewReader(content), key)
	if err != nil {
		t.Fatal(err)
	}
	return content, buf.Bytes(), addr, key
}

// A container larger than a publish call may carry goes through the
// remote in chunks over each transport, and is read back byte for byte;
// the upload's file is gone once it is published.
func TestUploadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := startRemote(t, nil, nil, remote.WithMaxPublishBytes(1<<20), remote.WithUploadDir(dir))
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			alice := newKeys(t)
			c := dial(t, r.url(tr), alice)
			content, container, addr, key := bigContainer(t, 3<<20+12345)
			frame, err := record.NewDynamic(alice.Signer(), addr, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			// The transports bound a call (a 413, a peer frame too
			// large), before publish would answer too_large.
			if _, err := c.Publish(bg, container, frame.Bytes()); err == nil {
				t.Fatalf("Publish of %d bytes in one call succeeded", len(container))
			}
			p, err := c.PublishContainer(bg, addr, int64(len(container)), bytes.NewReader(container), frame.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != 2 || !bytes.Equal(p[0].Address, addr.Bytes()) || p[0].Existed || p[1].Seq <= p[0].Seq {
				t.Fatalf("PublishContainer = %+v", p)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("the upload's files are left after publishing: %v", left)
			}
			if _, err := c.Get(bg, addr); remote.ReasonOf(err) != remote.ReasonTooLarge {
				t.Fatalf("Get of %d bytes in one answer: %v, want too_large", len(container), err)
			}
			rc, err := c.GetContainer(bg, addr)
			if err != nil {
				t.Fatal(err)
			}
			var opened bytes.Buffer
			if _, err := record.Open(&opened, rc, addr, key); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			if !bytes.Equal(opened.Bytes(), content) {
				t.Fatal("the content read back differs")
			}
			rc, _ = c.GetContainer(bg, addr)
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, container) {
				t.Fatalf("GetContainer read %d bytes (%v), want the %d published", len(got), err, len(container))
			}
			// Any part may be read, in any order.
			api := rawClient(t, r.url(tr))
			for _, off := range []int64{2 << 20, 10, int64(len(container)) - 5} {
				ch, err := api.Read(bg, c.Session().Token, addr.Bytes(), off, 100)
				want := container[off:min(off+100, int64(len(container)))]
				if err != nil || ch.Size != int64(len(container)) || !bytes.Equal(ch.Data, want) {
					t.Fatalf("read at %d = %d bytes of %d, %v", off, len(ch.Data), ch.Size, err)
				}
			}
			// A container the remote has needs no upload.
			bind, _ := record.NewBinding(alice.Signer(), record.KindBinding, addr, time.Now())
			p, err = c.PublishContainer(bg, addr, int64(len(container)), bytes.NewReader(container), bind.Bytes())
			if err != nil || !p[0].Existed || p[1].Existed {
				t.Fatalf("PublishContainer again = %+v, %v", p, err)
			}
			if _, err := c.GetContainer(bg, record.Sum([]byte("nothing"))); remote.ReasonOf(err) != remote.ReasonNotFound {
				t.Fatalf("GetContainer of nothing: %v, want not_found", err)
			}
		})
	}
}

// Every upload the remote refuses is refused with its own reason, over
// each transport, and another identity can neither append to an upload
// nor publish it.
func TestUploadRefused(t *testing.T) {
	r := startRemote(t, nil, nil, remote.WithUploadLimits(4, 8<<20))
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			alice, bob := newKeys(t), newKeys(t)
			ca, cb := dial(t, r.url(tr), alice), dial(t, r.url(tr), bob)
			api := rawClient(t, r.url(tr))
			tok, bobTok := ca.Session().Token, cb.Session().Token
			_, container, addr, _ := bigContainer(t, 5000)
			size := int64(len(container))
			frame, _ := record.NewDynamic(alice.Signer(), addr, time.Time{})
			other, otherAddr := seal(t, record.NewEpochKey(0), "other")
			// sendAll begins (or resumes) an upload of data as addr and
			// size and appends the rest in chunks of 1000 bytes,
			// returning the first refusal.
			sendAll := func(data []byte, addr record.Address, size int64) (remote.Upload, error) {
				up, err := api.Upload(bg, tok, addr.Bytes(), size)
				for off := int(up.Offset); err == nil && off < len(data); off += 1000 {
					up, err = api.Append(bg, tok, up.ID, int64(off), data[off:min(off+1000, len(data))])
				}
				return up, err
			}
			tampered := bytes.Clone(container)
			tampered[len(tampered)/2] ^= 1
			tests := []struct {
				name string
				do   func() error
				want remote.Reason
			}{
				{"address not an address", func() error { _, err := api.Upload(bg, tok, []byte{1, 2}, size); return err }, remote.ReasonMalformed},
				{"size zero", func() error { _, err := api.Upload(bg, tok, addr.Bytes(), 0); return err }, remote.ReasonMalformed},
				{"size over the limit", func() error { _, err := api.Upload(bg, tok, addr.Bytes(), 8<<20+1); return err }, remote.ReasonTooLarge},
				{"chunk out of order", func() error {
					up, err := api.Upload(bg, tok, otherAddr.Bytes(), int64(len(other)))
					if err != nil {
						return err
					}
					_, err = api.Append(bg, tok, up.ID, 10, other[10:])
					return err
				}, remote.ReasonOffset},
				{"chunk sent twice", func() error {
					up, err := api.Upload(bg, tok, otherAddr.Bytes(), int64(len(other)))
					if err != nil {
						return err
					}
					if up.Offset == 0 {
						if _, err := api.Append(bg, tok, up.ID, 0, other[:10]); err != nil {
							return err
						}
					}
					_, err = api.Append(bg, tok, up.ID, 0, other[:10])
					return err
				}, remote.ReasonOffset},
				{"chunk past the size", func() error { _, err := sendAll(container, addr, size-1); return err }, remote.ReasonTooLarge},
				{"chunk over MaxChunk", func() error {
					up, err := api.Upload(bg, tok, addr.Bytes(), size)
					if err != nil {
						return err
					}
					_, err = api.Append(bg, tok, up.ID, 0, make([]byte, remote.MaxChunk+1))
					return err
				}, remote.ReasonTooLarge},
				{"tampered chunk", func() error { _, err := sendAll(tampered, addr, size); return err }, remote.ReasonTampered},
				{"wrong address", func() error { _, err := sendAll(container, record.Sum(other), size); return err }, remote.ReasonTampered},
				{"not a container", func() error {
					junk := bytes.Repeat([]byte("junk"), 100)
					_, err := sendAll(junk, record.Sum(junk), int64(len(junk)))
					return err
				}, remote.ReasonMalformed},
				{"published incomplete", func() error {
					up, err := sendAll(container[:3000], addr, size)
					if err != nil {
						return err
					}
					_, err = api.Publish(bg, client.Named{"session": tok, "records": [][]byte{frame.Bytes()}, "uploads": []string{up.ID}})
					return err
				}, remote.ReasonIncomplete},
				{"unknown upload", func() error { _, err := api.Append(bg, tok, "u1.AAAAAAAAAAAAAAAAAAAAAAAA", 0, []byte{1}); return err }, remote.ReasonNotFound},
				{"appended by another identity", func() error {
					up, err := api.Upload(bg, tok, addr.Bytes(), size)
					if err != nil {
						return err
					}
					_, err = api.Append(bg, bobTok, up.ID, up.Offset, container[up.Offset:up.Offset+1])
					return err
				}, remote.ReasonUnauthorised},
				{"published by another identity", func() error {
					up, err := api.Upload(bg, tok, addr.Bytes(), size)
					if err != nil {
						return err
					}
					bobFrame, _ := record.NewDynamic(bob.Signer(), addr, time.Time{})
					_, err = api.Publish(bg, client.Named{"session": bobTok, "records": [][]byte{bobFrame.Bytes()}, "uploads": []string{up.ID}})
					return err
				}, remote.ReasonUnauthorised},
				{"unbound", func() error {
					up, err := sendAll(other, otherAddr, int64(len(other)))
					if err != nil {
						return err
					}
					_, err = api.Publish(bg, client.Named{"session": tok, "records": [][]byte{frame.Bytes()}, "uploads": []string{up.ID}})
					return err
				}, remote.ReasonUnbound},
				{"read past the end", func() error { _, err := api.Read(bg, tok, alice.Fingerprint().Bytes(), 1<<20, 10); return err }, remote.ReasonMalformed},
				{"read over MaxChunk", func() error {
					_, err := api.Read(bg, tok, alice.Fingerprint().Bytes(), 0, remote.MaxChunk+1)
					return err
				}, remote.ReasonMalformed},
			}
			for _, tt := range tests {
				if err := tt.do(); remote.ReasonOf(err) != tt.want {
					t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
				}
			}
			// After all that, the container still goes through whole.
			if _, err := ca.PublishContainer(bg, addr, size, bytes.NewReader(container), frame.Bytes()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// One publish call may name several uploads, in any order: their
// containers are stored before the records that bind them, and the
// answer has one entry per upload, then one per record.
func TestUploadSeveralInOneCall(t *testing.T) {
	r := startRemote(t, nil, nil)
	alice := newKeys(t)
	c := dial(t, r.peerURL, alice)
	api := rawClient(t, r.peerURL)
	tok := c.Session().Token
	c1, a1 := seal(t, record.NewEpochKey(0), "first")
	c2, a2 := seal(t, record.NewEpochKey(0), "second")
	var ids []string
	for _, up := range []struct {
		data []byte
		addr record.Address
	}{{c1, a1}, {c2, a2}} {
		u, err := api.Upload(bg, tok, up.addr.Bytes(), int64(len(up.data)))
		if err == nil {
			u, err = api.Append(bg, tok, u.ID, 0, up.data)
		}
		if err != nil || u.Offset != u.Size {
			t.Fatalf("upload = %+v, %v", u, err)
		}
		ids = append(ids, u.ID)
	}
	b1, _ := record.NewBinding(alice.Signer(), record.KindBinding, a1, time.Now())
	b2, _ := record.NewBinding(alice.Signer(), record.KindBinding, a2, time.Now())
	p, err := api.Publish(bg, client.Named{"session": tok, "records": [][]byte{b1.Bytes(), b2.Bytes()}, "uploads": []string{ids[1], ids[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 4 || !bytes.Equal(p[0].Address, a2.Bytes()) || !bytes.Equal(p[1].Address, a1.Bytes()) {
		t.Fatalf("publish = %+v, want the second container, the first, then the bindings", p)
	}
	for _, want := range [][]byte{c1, c2} {
		got, err := c.Get(bg, record.Sum(want))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Get = %d bytes, %v", len(got), err)
		}
	}
	// Published, the uploads are over.
	if _, err := api.Append(bg, tok, ids[0], 0, c1); remote.ReasonOf(err) != remote.ReasonNotFound {
		t.Fatalf("append to a published upload: %v, want not_found", err)
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// An identity has at most so many uploads open, of so many bytes in all;
// an upload left alone expires, and frees its share of the quota.
func TestUploadQuotaExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	r := startRemote(t, nil, nil, remote.WithClock(clock.Now), remote.WithUploadTTL(time.Minute), remote.WithUploadLimits(2, 10000))
	alice, bob := newKeys(t), newKeys(t)
	ca, cb := dial(t, r.httpURL, alice), dial(t, r.peerURL, bob)
	api := rawClient(t, r.httpURL)
	tok := ca.Session().Token
	c1, a1 := seal(t, record.NewEpochKey(0), "one")
	_, a2 := seal(t, record.NewEpochKey(0), "two")
	_, a3 := seal(t, record.NewEpochKey(0), "three")
	up1, err := api.Upload(bg, tok, a1.Bytes(), int64(len(c1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Append(bg, tok, up1.ID, 0, c1[:100]); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Upload(bg, tok, a2.Bytes(), 10000-int64(len(c1))+1); remote.ReasonOf(err) != remote.ReasonQuota {
		t.Fatalf("uploads over the byte quota: %v, want quota", err)
	}
	if _, err := api.Upload(bg, tok, a2.Bytes(), 500); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Upload(bg, tok, a3.Bytes(), 500); remote.ReasonOf(err) != remote.ReasonQuota {
		t.Fatalf("a third upload: %v, want quota", err)
	}
	// Another identity's quota is its own.
	bobContainer, bobAddr := seal(t, record.NewEpochKey(0), "bob's")
	bobFrame, _ := record.NewDynamic(bob.Signer(), bobAddr, time.Time{})
	if _, err := cb.PublishContainer(bg, bobAddr, int64(len(bobContainer)), bytes.NewReader(bobContainer), bobFrame.Bytes()); err != nil {
		t.Fatal(err)
	}
	clock.add(2 * time.Minute)
	if _, err := api.Upload(bg, tok, a3.Bytes(), 500); err != nil {
		t.Fatalf("an upload once the others expired: %v", err)
	}
	if _, err := api.Append(bg, tok, up1.ID, 100, c1[100:]); remote.ReasonOf(err) != remote.ReasonNotFound {
		t.Fatalf("append to an expired upload: %v, want not_found", err)
	}
}

// An upload broken off resumes after the server restarts (given the same
// upload directory and session key) from the bytes it acknowledged, each
// synced to its file before the answer.
func TestUploadResumesAfterRestart(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	r := startRemote(t, nil, nil, remote.WithUploadDir(t.TempDir()), remote.WithSessionKey(key))
	alice := newKeys(t)
	_, container, addr, key0 := bigContainer(t, 2<<20+777)
	size := int64(len(container))
	api := rawClient(t, r.peerURL)
	c := dial(t, r.peerURL, alice)
	up, err := api.Upload(bg, c.Session().Token, addr.Bytes(), size)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Append(bg, c.Session().Token, up.ID, 0, container[:remote.MaxChunk]); err != nil {
		t.Fatal(err)
	}
	r.restart(t)
	c = dial(t, r.httpURL, alice)
	api = rawClient(t, r.httpURL)
	again, err := api.Upload(bg, c.Session().Token, addr.Bytes(), size)
	if err != nil || again.ID != up.ID || again.Offset != remote.MaxChunk {
		t.Fatalf("upload after a restart = %+v, %v; want %s at %d", again, err, up.ID, remote.MaxChunk)
	}
	// The client sends only what the remote lacks: a reader that fails
	// within the first chunk would stop it.
	src := io.MultiReader(&failReader{n: remote.MaxChunk}, bytes.NewReader(container[remote.MaxChunk:]))
	frame, _ := record.NewDynamic(alice.Signer(), addr, time.Time{})
	if _, err := c.PublishContainer(bg, addr, size, src, frame.Bytes()); err != nil {
		t.Fatal(err)
	}
	rc, err := c.GetContainer(bg, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := record.Open(io.Discard, rc, addr, key0); err != nil {
		t.Fatal(err)
	}
}

// failReader yields n bytes that must not be used: it is read only to be
// skipped, and fails on a read that would keep them.
type failReader struct{ n int }

func (r *failReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	r.n -= n
	for i := range p[:n] {
		p[i] = 0xee
	}
	return n, nil
}
