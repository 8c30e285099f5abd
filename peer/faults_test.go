package peer_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/internal/flood"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/internal/testneed"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// writeRaw writes one text frame of the stream framing on nc, without a
// FrameConn's buffers (the test's own connections must cost little).
func writeRaw(nc net.Conn, data string) error {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data))|1<<31)
	_, err := nc.Write(append(b, data...))
	return err
}

// readRaw reads one frame of the stream framing from r, up to max bytes.
func readRaw(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]) &^ (1 << 31))
	if n > max {
		return nil, fmt.Errorf("a frame of %d bytes", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

// TestManyConnections: a client that opens 10,000 connections from one
// address gets the first 1,000 (the listener's limit per host) and a
// refusal that says so for each of the others, each logged; the
// server's memory stays within what 1,000 connections hold, and a
// client from another address is served meanwhile.
func TestManyConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections; run without -short")
	}
	const total, perHost = 10000, 1000
	testneed.Files(t, 3*perHost+1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0", peer.WithMaxConnsPerHost(perHost))
	if err != nil {
		t.Fatal(err)
	}
	var refusals atomic.Int64 // lines logged
	logger := logtest.Counter(&refusals, "peer: connection refused")
	go peer.Serve(ctx, l, peer.WithHandler(services()), peer.WithLogger(logger))
	addr := strings.TrimPrefix(l.Addr(), "tcp://")
	before := flood.HeapInUse()

	refusal := fmt.Sprintf("-ERR overloaded: too many connections from 127.0.0.1 (limit %d)", perHost)
	r := flood.Open(addr, total, func(nc net.Conn) (flood.Outcome, string) {
		writeRaw(nc, "SIMPLEX/1.0;json")
		ans, err := readRaw(nc, 1<<10)
		switch {
		case err != nil:
			return flood.OutcomeClosed, ""
		case string(ans) == "+OK":
			return flood.OutcomeServed, ""
		case string(ans) == refusal:
			return flood.OutcomeRefused, ""
		}
		return flood.OutcomeWrong, "answered " + string(ans)
	})
	defer r.Close()
	// Each connection the server holds takes its read buffer (32 KiB),
	// its goroutines and their stacks (measured 60 to 90 KiB with both
	// ends in this process); the refused ones take nothing once closed.
	// Ten times as many served would take ten times as much.
	r.CheckHeap(t, before, 160<<10)
	r.Check(t, perHost)
	if !eventually(func() bool { return refusals.Load() == total-perHost }) {
		t.Errorf("%d refusals logged, want %d", refusals.Load(), total-perHost)
	}

	// Another address is served.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	other, err := peer.Client(ctx, peer.NewStreamConn(nc, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if v, err := other.Call(ctxTimeout(t, 5*time.Second), "echo", "served"); err != nil || v != "served" {
		t.Errorf("another address's call: %v, %v", v, err)
	}
}

// TestMaxFrameFlood: a remote that sends calls in frames of the largest
// size as fast as it can, without regard for the calls it was told the
// server serves at once, is refused what the server cannot hold
// (overloaded replies) and takes a bounded amount of its memory, while
// another client is served; a frame over the limit then ends its
// connection, with a goaway that says why and a log line.
func TestMaxFrameFlood(t *testing.T) {
	const frameSize = 1 << 20
	const inbound = 8 << 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{}) // the sink's calls end when the flood does
	var sinking, most atomic.Int64 // the sink's calls now, and at most
	handler := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		v, err := s.Recv()
		if err != nil {
			return nil, err
		}
		if s.Method() == "sink" {
			n := sinking.Add(1)
			defer sinking.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			return int64(len(v.(string))), nil
		}
		return v, nil
	})
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0", peer.WithMaxFrameSize(frameSize))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	log, logger := logtest.New()
	conns := make(chan *peer.Conn, 2)
	go func() {
		for {
			fc, err := l.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				if c, err := peer.Server(ctx, fc, peer.WithHandler(handler), peer.WithMaxFrameSize(frameSize),
					peer.WithMaxInboundBytes(inbound), peer.WithLogger(logger)); err == nil {
					conns <- c
				}
			}()
		}
	}()
	before := flood.HeapInUse()

	nc, err := net.Dial("tcp", strings.TrimPrefix(l.Addr(), "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	writeRaw(nc, "SIMPLEX/1.0;json;glyph-codecs=json;glyph-ext=goaway")
	if ans, err := readRaw(nc, 1<<10); err != nil || !strings.HasPrefix(string(ans), "+OK;codec=json;ext=goaway") {
		t.Fatalf("greeting answered %q, %v", ans, err)
	}
	flooder := <-conns
	var ok, overloaded atomic.Int64
	var last atomic.Value // the last frame the flooder read
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			f, err := readRaw(nc, 1<<20)
			if err != nil {
				return
			}
			last.Store(string(f))
			switch s := string(f); {
			case strings.Contains(s, `"overloaded"`) || strings.Contains(s, `"code":8`):
				overloaded.Add(1)
			case strings.Contains(s, `"type":"rep"`):
				ok.Add(1)
			}
		}
	}()
	payload := strings.Repeat("x", frameSize-100)
	floodCtx, stopFlood := context.WithTimeout(ctx, 3*time.Second)
	defer stopFlood()
	floodDone := make(chan int)
	go func() {
		id := 0
		for floodCtx.Err() == nil {
			id++
			req := `{"type":"req","method":"sink","id":` + itoa(id) + `,"payload":"` + payload + `"}`
			if writeRaw(nc, req) != nil {
				break
			}
		}
		floodDone <- id
	}()

	fc, err := peer.Dial(ctx, l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	other, err := peer.Client(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var peak int64
	for floodCtx.Err() == nil {
		peak = max(peak, flood.HeapInUse()-before)
		callCtx, cancelCall := context.WithTimeout(ctx, 5*time.Second)
		v, err := other.Call(callCtx, "echo", "small")
		cancelCall()
		if err != nil || v != "small" {
			t.Fatalf("the other client's call during the flood: %v, %v", v, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sent := <-floodDone
	// Every call read and either held or refused, before any ends.
	if !eventually(func() bool { return sinking.Load()+overloaded.Load() == int64(sent) }) {
		t.Fatalf("%d calls sent, %d held and %d refused", sent, sinking.Load(), overloaded.Load())
	}
	close(release)
	if !eventually(func() bool { return ok.Load()+overloaded.Load() == int64(sent) }) {
		t.Fatalf("%d calls sent, %d answered", sent, ok.Load()+overloaded.Load())
	}

	// A frame over the limit ends the connection, and the flooder is told.
	hdr := binary.BigEndian.AppendUint32(nil, frameSize+1|1<<31)
	nc.Write(append(hdr, "{}"...))
	select {
	case <-flooder.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection still open 10 s after a frame over the limit")
	}
	<-readDone
	if err := flooder.Err(); service.KindOf(err) != service.KindTooLarge || !strings.Contains(err.Error(), "over the limit of 1048576") {
		t.Errorf("the flooder's connection ended with %v, want too large", err)
	}
	if f, _ := last.Load().(string); !strings.Contains(f, `"type":"goaway"`) || !strings.Contains(f, "over the limit of 1048576") {
		t.Errorf("the flooder's last frame %q, want a goaway saying why", f)
	}
	if n := len(log.Entries("peer: connection closed: the remote broke the protocol")); n != 1 {
		t.Errorf("the flooder's end logged %d times, want once", n)
	}

	// The server held the remote's requests up to its inbound bound,
	// each as its frame and its decoded value, the frame being read and
	// one being decoded, and the test's own flooder a few frames: the
	// rest of the flood was refused, not kept (measured 16 to 34 MiB).
	bound := int64(4*inbound + 16*frameSize)
	if raceEnabled {
		bound *= 2
	}
	t.Logf("%d frames of 1 MiB sent in 3 s: %d served, %d refused overloaded; the heap grew by %d MiB at most", sent, ok.Load(), overloaded.Load(), peak>>20)
	if held := most.Load(); held == 0 || held > inbound/frameSize {
		t.Errorf("%d calls of 1 MiB held at once, want 1 to %d", held, inbound/frameSize)
	}
	if overloaded.Load() == 0 {
		t.Errorf("no call refused of %d sent", sent)
	}
	if peak > bound {
		t.Errorf("the heap grew by %d MiB, over %d MiB", peak>>20, bound>>20)
	}
}
