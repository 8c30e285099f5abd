package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/link"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// Benchmarks of the shared-objects daemon (package objects/hub) and the
// applications' API (package objects/link): daemons with their stores in
// temporary directories, applications on their Unix sockets, remotes on
// 127.0.0.1. Run with:
//
//	go test -run '^$' -bench Hub -benchtime 2000x

// benchDaemon is a daemon with an account, serving applications.
type benchDaemon struct {
	h   *hub.Hub
	cfg *hub.Config
	fp  string
}

func benchHubConfig(b *testing.B, remotes ...string) *hub.Config {
	dir := b.TempDir()
	cfg := &hub.Config{Store: filepath.Join(dir, "store"), Socket: filepath.Join(dir, "run", "hub.sock"), LogLevel: "error"}
	for _, r := range remotes {
		cfg.Remotes = append(cfg.Remotes, hub.RemoteConfig{URL: r})
	}
	return cfg
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serveHub serves h until the end of the benchmark; it returns once the
// socket listens.
func serveHub(b *testing.B, h *hub.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- h.Serve(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

func startBenchDaemon(b *testing.B, name string, remotes ...string) *benchDaemon {
	ctx := context.Background()
	cfg := benchHubConfig(b, remotes...)
	h, err := hub.Open(ctx, cfg, hub.WithLogger(quietLog()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	fp, err := h.Create(ctx, name, name+" password")
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Drained(ctx); err != nil {
		b.Fatal(err)
	}
	serveHub(b, h)
	return &benchDaemon{h: h, cfg: cfg, fp: fp.String()}
}

func (d *benchDaemon) link(b *testing.B) *link.Link {
	l, err := link.Dial(context.Background(), link.WithSocket(d.cfg.Socket), link.WithName("bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// BenchmarkHubPushToCallback measures an application's push on one
// daemon reaching another account's application through its own daemon:
// from the start of Object.Push on the first to the update callback of
// Object.Watch on the second, through one remote over a WebSocket peer on
// loopback. The push's durable commit, the outbox's publish, the
// remote's verify and commit, the subscription's notification, the
// second daemon's check, fetch of the container and commit, and the
// callback's read of the new state are all in it. One push at a time;
// reports the median and 99th percentile.
func BenchmarkHubPushToCallback(b *testing.B) {
	ctx := context.Background()
	r := startRemoteBench(b)
	alice, bob := startBenchDaemon(b, "alice", r.peerURL), startBenchDaemon(b, "bob", r.peerURL)
	la, lb := alice.link(b), bob.link(b)
	shared := make(chan link.Share, 1)
	if err := lb.HandleShares(ctx, "bench.status", func(s link.Share) { shared <- s }); err != nil {
		b.Fatal(err)
	}
	o, err := link.New(ctx, la, link.Raw(), "bench.status", []byte("start"))
	if err != nil {
		b.Fatal(err)
	}
	bobFP, _ := lb.Whoami(ctx)
	if err := o.Share(ctx, bobFP); err != nil {
		b.Fatal(err)
	}
	sh := <-shared
	got, err := link.Get(ctx, lb, link.Raw(), sh.ID)
	if err != nil {
		b.Fatal(err)
	}
	updates := make(chan string, 1)
	if err := got.Watch(ctx, link.Callbacks[[]byte]{Update: func(o *link.Object[[]byte]) { updates <- string(o.State()) }}); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	n := 0
	for b.Loop() {
		n++
		want := fmt.Sprintf("%064d", n)
		start := time.Now()
		if err := o.Push(ctx, []byte(want)); err != nil {
			b.Fatal(err)
		}
		for {
			s := <-updates
			if s == want {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHubPush measures acknowledged pushes of one object by one
// application: Object.Push over the daemon's socket, answered once the
// new state is durable in the daemon's store (its outbox), with a remote
// configured and drained in the background. "sequential" waits for each
// push's answer before the next; "inflight-N" keeps N pushes of the one
// object in flight from the same application. cpu-us/push is the
// process's CPU time (user and system) per push: the daemon's, the
// application's and, with a remote, the remote's, which a shared machine
// disturbs less than the rate. Each row has two levels
// ("sequential/remote", "sequential/no-remote") so that a pattern such as
// '^BenchmarkHubPush$/^sequential$/^no-remote$' selects one row only: a
// row that matched a pattern only in part would run in full, unreported,
// since b.Loop runs its iterations in the first call.
func BenchmarkHubPush(b *testing.B) {
	for _, tc := range []struct {
		inflight   int
		withRemote bool
	}{{1, true}, {8, true}, {1, false}, {8, false}} {
		inflight, withRemote := tc.inflight, tc.withRemote
		name := "sequential"
		if inflight > 1 {
			name = fmt.Sprintf("inflight-%d", inflight)
		}
		if withRemote {
			name += "/remote"
		} else {
			name += "/no-remote"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var remotes []string
			if withRemote {
				remotes = append(remotes, startRemoteBench(b).peerURL)
			}
			d := startBenchDaemon(b, "pusher", remotes...)
			l := d.link(b)
			o, err := link.New(ctx, l, link.Raw(), "bench.counter", []byte("0"))
			if err != nil {
				b.Fatal(err)
			}
			state := make([]byte, 64)
			var wg sync.WaitGroup
			sem := make(chan struct{}, inflight)
			n := 0
			cpu0, cpuOK := processCPUTime()
			start := time.Now()
			for b.Loop() {
				n++
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					if err := o.Push(ctx, state); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait() // the last pushes' answers count too
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "pushes/s")
			if cpu1, ok := processCPUTime(); ok && cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(n), "cpu-us/push")
			}
		})
	}
}

// BenchmarkHubStart measures a daemon's start on a store that holds
// 100,000 records (50,000 updates of dynamic objects: a container and a
// frame each) until it serves applications: Open (the lock, the store,
// the account) and Serve's socket listening.
func BenchmarkHubStart(b *testing.B) {
	ctx := context.Background()
	cfg := benchHubConfig(b)
	h, err := hub.Open(ctx, cfg, hub.WithLogger(quietLog()))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.Create(ctx, "starter", "starter password"); err != nil {
		b.Fatal(err)
	}
	if _, err := h.New(ctx, "bench.mine", []byte("x"), true, false, ""); err != nil {
		b.Fatal(err)
	}
	h.Close()
	st, err := sqlitestore.Open(ctx, filepath.Join(cfg.Store, "records"))
	if err != nil {
		b.Fatal(err)
	}
	const records = 100_000
	for written := 0; written < records; {
		w := newBenchWriter(b)
		var items []store.Item
		for i := 0; i < 500 && written < records; i++ {
			c, f := w.update(b)
			items = append(items, containerItem(c, w.k.Fingerprint()), frameItemOf(f))
			written += 2
		}
		if _, err := st.PutAll(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	var starts []time.Duration
	for b.Loop() {
		start := time.Now()
		h, err := hub.Open(ctx, cfg, hub.WithLogger(quietLog()))
		if err != nil {
			b.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		ready, done := make(chan struct{}), make(chan error, 1)
		go func() { done <- h.Serve(sctx, func() { close(ready) }) }()
		select {
		case <-ready:
		case err := <-done:
			b.Fatal(err)
		}
		starts = append(starts, time.Since(start))
		cancel()
		<-done
		h.Close()
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	b.ReportMetric(float64(starts[len(starts)/2].Microseconds())/1000, "p50-start-ms")
}

// containerItem and frameItemOf are a container's and a frame's records
// with the metadata the daemon stores them with.
func containerItem(c []byte, owner record.Address) store.Item {
	return store.Item{Meta: store.Meta{Addr: record.Sum(c).Bytes(), Kind: store.KindContainer, Owner: owner.Bytes(), Size: int64(len(c))}, Body: bytes.NewReader(c)}
}

func frameItemOf(f *record.Frame) store.Item {
	h := f.Hash()
	m := store.Meta{Addr: h.Bytes(), Kind: store.KindFrame, Owner: f.Owner.Bytes(), Object: f.ID.Bytes(), Counter: f.Counter,
		Targets: []store.Addr{f.Target.Bytes()}, Size: int64(len(f.Bytes()))}
	if f.Prev != nil {
		m.Prev = f.Prev.Bytes()
	}
	return store.Item{Meta: m, Body: bytes.NewReader(f.Bytes())}
}
