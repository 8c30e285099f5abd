package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// Benchmarks of package objects/remote, the persistence server, on an
// embedded (SQLite) store in a temporary directory. Run with:
//
//	go test -run '^$' -bench Remote -benchtime 3s

// remoteBench is a remote served on 127.0.0.1:0 over a new SQLite store.
type remoteBench struct {
	st      *sqlitestore.Store
	peerURL string
	httpURL string
}

func startRemoteBench(b *testing.B, opts ...store.Option) *remoteBench {
	st, err := sqlitestore.Open(context.Background(), b.TempDir(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := remote.New(st, ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	hs := hyperhttp.NewServer("", srv.Handler())
	go hs.Serve(ln)
	b.Cleanup(func() {
		srv.Close()
		hs.Close()
		st.Close()
	})
	return &remoteBench{st: st, peerURL: "ws://" + ln.Addr().String() + "/peer", httpURL: "http://" + ln.Addr().String() + "/"}
}

// benchWriter writes the updates of one dynamic object: each a small
// sealed container (a 64-byte state, padded to its bucket) and the frame
// that points to it.
type benchWriter struct {
	k    *record.Keys
	key  record.EpochKey
	head *record.Frame
	n    int
}

func newBenchWriter(b *testing.B) *benchWriter {
	k, err := record.NewKeys(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return &benchWriter{k: k, key: record.NewEpochKey(0)}
}

// update seals the next state and signs its frame: what a writer does
// for each update.
func (w *benchWriter) update(b *testing.B) (container []byte, frame *record.Frame) {
	state := fmt.Appendf(make([]byte, 0, 64), "%064d", w.n)
	w.n++
	var c bytes.Buffer
	addr, err := record.Seal(&c, bytes.NewReader(state), w.key, record.WithSegmentSize(record.MinSegmentSize))
	if err != nil {
		b.Fatal(err)
	}
	if w.head == nil {
		frame, err = record.NewDynamic(w.k.Signer(), addr, time.Time{})
	} else {
		frame, err = w.head.Next(w.k.Signer(), addr, time.Time{})
	}
	if err != nil {
		b.Fatal(err)
	}
	w.head = frame
	return c.Bytes(), frame
}

// BenchmarkRemotePublish measures dynamic frame updates of one writer,
// each a container and its frame, and splits their cost:
//
//   - sign: sealing the state and signing the frame (the writer's work);
//   - verify: what the remote checks of an update (parsing the container
//     and the frame, the signature, CheckNext against the previous frame);
//   - store: the two durable Puts into sqlitestore, one transaction each;
//   - peer, http: the whole update through the remote, one publish call
//     and its answer per update, sign included;
//   - peer/batch-N: N updates per publish call;
//   - peer/pipelined-32: 32 updates per call, the next 32 sealed and
//     signed while the call is in flight (still one writer, in order).
//
// Each reports updates/s.
func BenchmarkRemotePublish(b *testing.B) {
	ctx := context.Background()
	perSecond := func(b *testing.B, updates int) {
		b.ReportMetric(float64(updates)/b.Elapsed().Seconds(), "updates/s")
	}
	b.Run("sign", func(b *testing.B) {
		w := newBenchWriter(b)
		n := 0
		for b.Loop() {
			w.update(b)
			n++
		}
		perSecond(b, n)
	})
	b.Run("verify", func(b *testing.B) {
		w := newBenchWriter(b)
		c0, f0 := w.update(b)
		_ = c0
		c1, f1 := w.update(b)
		fb := f1.Bytes()
		n := 0
		for b.Loop() {
			if _, err := record.Parse(c1); err != nil {
				b.Fatal(err)
			}
			f, err := record.ParseFrame(fb)
			if err != nil {
				b.Fatal(err)
			}
			if err := record.CheckNext(f0, f, w.k.Identity, time.Now()); err != nil {
				b.Fatal(err)
			}
			n++
		}
		perSecond(b, n)
	})
	b.Run("store", func(b *testing.B) {
		st, err := sqlitestore.Open(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		w := newBenchWriter(b)
		owner := w.k.Fingerprint().Bytes()
		type upd struct {
			c []byte
			f *record.Frame
		}
		// Updates are made before the timer, so that only the Puts count.
		ups := make([]upd, 0, 1<<14)
		n := 0
		for b.Loop() {
			if n == len(ups) {
				b.StopTimer()
				for range 1 << 12 {
					c, f := w.update(b)
					ups = append(ups, upd{c, f})
				}
				b.StartTimer()
			}
			u := ups[n]
			n++
			addr := u.f.Target.Bytes()
			if _, err := st.Put(ctx, store.Meta{Addr: addr, Kind: store.KindContainer, Owner: owner, Size: int64(len(u.c))}, bytes.NewReader(u.c)); err != nil {
				b.Fatal(err)
			}
			m := store.Meta{Addr: u.f.Hash().Bytes(), Kind: store.KindFrame, Owner: owner, Object: u.f.ID.Bytes(),
				Counter: u.f.Counter, Targets: []store.Addr{addr}, Size: int64(len(u.f.Bytes()))}
			if u.f.Prev != nil {
				m.Prev = u.f.Prev.Bytes()
			}
			if _, err := st.Put(ctx, m, bytes.NewReader(u.f.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b, n)
	})
	for _, tr := range []string{"peer", "http"} {
		b.Run(tr, func(b *testing.B) {
			r := startRemoteBench(b)
			url := r.peerURL
			if tr == "http" {
				url = r.httpURL
			}
			w := newBenchWriter(b)
			c, err := remote.Dial(ctx, url, w.k.Identity, w.k.Signer())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			n := 0
			for b.Loop() {
				cont, f := w.update(b)
				if _, err := c.Publish(ctx, cont, f.Bytes()); err != nil {
					b.Fatal(err)
				}
				n++
			}
			perSecond(b, n)
		})
	}
	for _, size := range []int{16, 32} {
		b.Run(fmt.Sprintf("peer/batch-%d", size), func(b *testing.B) {
			r := startRemoteBench(b)
			w := newBenchWriter(b)
			c, err := remote.Dial(ctx, r.peerURL, w.k.Identity, w.k.Signer())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			n := 0
			for b.Loop() {
				recs := make([][]byte, 0, 2*size)
				for range size {
					cont, f := w.update(b)
					recs = append(recs, cont, f.Bytes())
				}
				if _, err := c.Publish(ctx, recs...); err != nil {
					b.Fatal(err)
				}
				n += size
			}
			perSecond(b, n)
		})
	}
	b.Run("peer/pipelined-32", func(b *testing.B) { benchPipelined(b, 32, 1) })
	b.Run("peer/pipelined-32x2", func(b *testing.B) { benchPipelined(b, 32, 2) })
}

// benchPipelined is BenchmarkRemotePublish's peer/pipelined-32 and
// peer/pipelined-32x2: one writer that seals and signs its next batches
// of size updates while up to inFlight calls with the previous ones are
// in flight (the remote takes a call that comes ahead of its predecessor
// after it), and publishes in order.
func benchPipelined(b *testing.B, size, inFlight int) {
	ctx := context.Background()
	r := startRemoteBench(b)
	w := newBenchWriter(b)
	c, err := remote.Dial(ctx, r.peerURL, w.k.Identity, w.k.Signer())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	batches := make(chan [][]byte, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			recs := make([][]byte, 0, 2*size)
			for range size {
				cont, f := w.update(b)
				recs = append(recs, cont, f.Bytes())
			}
			select {
			case batches <- recs:
			case <-stop:
				return
			}
		}
	}()
	slots := make(chan struct{}, inFlight)
	errs := make(chan error, 1)
	n := 0
	var t0 time.Time
	for b.Loop() {
		if n == 0 {
			t0 = time.Now()
		}
		recs := <-batches
		slots <- struct{}{}
		go func() {
			defer func() { <-slots }()
			if _, err := c.Publish(ctx, recs...); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
		n += size
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
	}
	for range inFlight { // the last calls' answers count too
		slots <- struct{}{}
	}
	elapsed := time.Since(t0)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "updates/s")
}

// BenchmarkRemoteNotify measures the time from an update's publish call
// to its frame reaching a subscriber over a peer connection on loopback,
// and reports its median and 99th percentile.
func BenchmarkRemoteNotify(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := startRemoteBench(b)
	w := newBenchWriter(b)
	pub, err := remote.Dial(ctx, r.peerURL, w.k.Identity, w.k.Signer())
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	reader, _ := record.NewKeys(time.Now())
	sub, err := remote.Dial(ctx, r.peerURL, reader.Identity, reader.Signer())
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	cont, f := w.update(b)
	if _, err := pub.Publish(ctx, cont, f.Bytes()); err != nil {
		b.Fatal(err)
	}
	got := make(chan time.Time, 1)
	go func() {
		for _, err := range sub.Subscribe(ctx, remote.Subscription{Objects: []record.Address{f.ID}}) {
			if err != nil {
				return
			}
			got <- time.Now()
		}
	}()
	<-got // frame 0
	var lat []time.Duration
	for b.Loop() {
		b.StopTimer()
		cont, f := w.update(b)
		b.StartTimer()
		start := time.Now()
		if _, err := pub.Publish(ctx, cont, f.Bytes()); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got).Sub(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkRemoteBigObject takes one large object through the remote: the
// writer seals it into a file and uploads it in chunks with the frame
// that points to it (PublishContainer), the server checking it as a
// stream and putting it into sqlitestore; the reader gets it in chunks
// (GetContainer) and opens it. It reports the peak live heap of the
// process, client and server together, sampled every millisecond. It is
// 64 MiB by default and 1 GiB with GLYPH_BENCH_BIG=1. in-process is the
// same without the service: Seal, ParseContainer, Put, Get and Open.
func BenchmarkRemoteBigObject(b *testing.B) {
	size := int64(64 << 20)
	if os.Getenv("GLYPH_BENCH_BIG") == "1" {
		size = 1 << 30
	}
	for _, tr := range []string{"peer", "http"} {
		b.Run(tr, func(b *testing.B) { benchBigObjectRemote(b, tr, size) })
	}
	b.Run("in-process", func(b *testing.B) { benchBigObjectInProcess(b, size) })
}

func benchBigObjectRemote(b *testing.B, transport string, size int64) {
	ctx := context.Background()
	k, _ := record.NewKeys(time.Now())
	key := record.NewEpochKey(0)
	path := filepath.Join(b.TempDir(), "container")
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		r := startRemoteBench(b, store.WithMaxSize(2<<30))
		url := r.peerURL
		if transport == "http" {
			url = r.httpURL
		}
		c, err := remote.Dial(ctx, url, k.Identity, k.Signer())
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		stop := heapPeak()
		f, addr := sealToFile(b, path, size, key)
		fi, err := f.Stat()
		if err != nil {
			b.Fatal(err)
		}
		n := fi.Size()
		frame, err := record.NewDynamic(k.Signer(), addr, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.PublishContainer(ctx, addr, n, f, frame.Bytes()); err != nil {
			b.Fatal(err)
		}
		f.Close()
		body, err := c.GetContainer(ctx, addr)
		if err != nil {
			b.Fatal(err)
		}
		openAll(b, body, addr, key, size)
		body.Close()
		peak = max(peak, stop())
		b.StopTimer()
		c.Close()
		os.Remove(path)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func benchBigObjectInProcess(b *testing.B, size int64) {
	ctx := context.Background()
	k, _ := record.NewKeys(time.Now())
	key := record.NewEpochKey(0)
	path := filepath.Join(b.TempDir(), "container")
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "store")
		st, err := sqlitestore.Open(ctx, dir, store.WithMaxSize(2<<30))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		stop := heapPeak()
		f, addr := sealToFile(b, path, size, key)
		in, err := record.ParseContainer(f)
		if err != nil || in.Address != addr {
			b.Fatalf("ParseContainer: %v", err)
		}
		f.Seek(0, io.SeekStart)
		m := store.Meta{Addr: addr.Bytes(), Kind: store.KindContainer, Owner: k.Fingerprint().Bytes(), Size: in.Size}
		if _, err := st.Put(ctx, m, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		_, body, err := st.Get(ctx, addr.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		openAll(b, body, addr, key, size)
		body.Close()
		peak = max(peak, stop())
		b.StopTimer()
		st.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
