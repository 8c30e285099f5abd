package remote_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

var bg = context.Background()

// testRemote is a remote served on 127.0.0.1:0 over a store in a
// temporary directory.
type testRemote struct {
	srv     *remote.Server
	st      store.Store
	httpURL string // http://host:port/
	peerURL string // ws://host:port/peer
	base    string // http://host:port
	opts    []remote.Option
	hs      *http.Server
}

// transports are the two ways a client reaches a remote.
var transports = []string{"http", "peer"}

func (r *testRemote) url(transport string) string {
	if transport == "peer" {
		return r.peerURL
	}
	return r.httpURL
}

// startRemote serves a remote over st (a new SQLite store with storeOpts
// when nil).
func startRemote(t testing.TB, st store.Store, storeOpts []store.Option, opts ...remote.Option) *testRemote {
	t.Helper()
	if st == nil {
		s, err := sqlitestore.Open(bg, t.TempDir(), storeOpts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		st = s
	}
	r := &testRemote{st: st, opts: opts}
	r.serve(t, "127.0.0.1:0")
	t.Cleanup(r.stop)
	return r
}

// serve serves a new Server over r's store at addr.
func (r *testRemote) serve(t testing.TB, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.srv, err = remote.New(r.st, ln.Addr().String(), r.opts...)
	if err != nil {
		t.Fatal(err)
	}
	r.hs = hyperhttp.NewServer("", r.srv.Handler())
	go r.hs.Serve(ln)
	a := ln.Addr().String()
	r.httpURL, r.peerURL, r.base = "http://"+a+"/", "ws://"+a+"/peer", "http://"+a
}

func (r *testRemote) stop() {
	r.srv.Close()
	r.hs.Close()
}

// restart stops the server, dropping every connection, and serves a new
// one (with a new session key) over the same store at the same address.
func (r *testRemote) restart(t testing.TB) {
	t.Helper()
	r.stop()
	r.serve(t, strings.TrimPrefix(r.base, "http://"))
}

// newKeys makes an identity.
func newKeys(t testing.TB) *record.Keys {
	t.Helper()
	k, err := record.NewKeys(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dial logs in to url as k.
func dial(t testing.TB, url string, k *record.Keys, opts ...remote.ClientOption) *remote.Client {
	t.Helper()
	c, err := remote.Dial(bg, url, k.Identity, k.Signer(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// object is a dynamic object being written, with its records.
type object struct {
	k      *record.Keys
	key    record.EpochKey
	frames []*record.Frame
}

// seal seals content and returns the container's bytes and address.
func seal(t testing.TB, key record.EpochKey, content string) ([]byte, record.Address) {
	t.Helper()
	var buf bytes.Buffer
	addr, err := record.Seal(&buf, bytes.NewReader([]byte(content)), key, record.WithSegmentSize(record.MinSegmentSize))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), addr
}

// newObject makes frame 0 of a new dynamic object of k's: it returns the
// object and the records to publish, the container then the frame.
func newObject(t testing.TB, k *record.Keys, content string) (*object, [][]byte) {
	t.Helper()
	o := &object{k: k, key: record.NewEpochKey(0)}
	c, addr := seal(t, o.key, content)
	f, err := record.NewDynamic(k.Signer(), addr, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	o.frames = append(o.frames, f)
	return o, [][]byte{c, f.Bytes()}
}

// id returns the object's id.
func (o *object) id() record.Address { return o.frames[0].ID }

// head returns the newest frame made.
func (o *object) head() *record.Frame { return o.frames[len(o.frames)-1] }

// update makes the next frame, with new content.
func (o *object) update(t testing.TB, content string) [][]byte {
	t.Helper()
	c, addr := seal(t, o.key, content)
	f, err := o.head().Next(o.k.Signer(), addr, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	o.frames = append(o.frames, f)
	return [][]byte{c, f.Bytes()}
}

// open opens the content a frame's bytes point to, through c.
func (o *object) open(t testing.TB, c *remote.Client, frame []byte) string {
	t.Helper()
	f, err := record.ParseFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.Get(bg, f.Target)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := record.Open(&out, bytes.NewReader(data), f.Target, o.key); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func mustPublish(t testing.TB, c *remote.Client, recs ...[]byte) []remote.Published {
	t.Helper()
	p, err := c.Publish(bg, recs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// httpGet returns the status of GET url.
func httpGet(t testing.TB, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
