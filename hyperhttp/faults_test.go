package hyperhttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/flood"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/internal/testneed"
	"github.com/glyph-ipc/glyph/service"
)

// faultServer serves ping and count (a blob's length) with NewServer on
// a listener limited by lim; it returns the server, for its timeouts to
// be set before it serves, and a function that starts it and returns its
// address.
func faultServer(t *testing.T, lim hyperhttp.ConnLimits, opts ...hyperhttp.Option) (*http.Server, func() string) {
	t.Helper()
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("ping", func() string { return "pong" }, service.Safe())
	svc.MustFunc("count", func(r io.Reader) (int, error) {
		b, err := io.ReadAll(r)
		return len(b), err
	}, service.Args("data"))
	hs := hyperhttp.NewServer("", hyperhttp.NewHandler(svc, append([]hyperhttp.Option{hyperhttp.WithLogger(discardLogger())}, opts...)...))
	return hs, func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go hs.Serve(hyperhttp.LimitListener(ln, lim))
		t.Cleanup(func() { hs.Close() })
		return ln.Addr().String()
	}
}

// TestSlowLoris: clients that dribble their headers, or their bodies,
// a byte at a time are closed by the server's timeouts (NewServer's
// ReadHeaderTimeout and the Handler's minimum body rate, shortened here
// from 10 s and 32 KiB per 30 s), a slow body with a 400 that says so;
// meanwhile other clients are served as quickly as without them.
func TestSlowLoris(t *testing.T) {
	const headerTimeout, bodyWindow = time.Second, time.Second
	hs, start := faultServer(t, hyperhttp.ConnLimits{Logger: discardLogger()}, hyperhttp.WithMinBodyRate(1<<10, bodyWindow))
	hs.ReadHeaderTimeout = headerTimeout
	addr := start()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type ending struct {
		after  time.Duration
		answer string // the status line, if any
		err    error  // why reading ended, if not at EOF
	}
	// dribble sends head, then rest a byte every 100 ms, and reports
	// how and when the server ended the connection.
	dribble := func(head, rest string, out chan<- ending) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			out <- ending{err: err}
			return
		}
		defer nc.Close()
		begin := time.Now()
		io.WriteString(nc, head)
		go func() {
			for i := 0; i < len(rest) && ctx.Err() == nil; i++ {
				if _, err := nc.Write([]byte{rest[i]}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := bufio.NewReader(nc).ReadString('\n')
		if err == io.EOF || (err != nil && strings.Contains(err.Error(), "reset")) {
			err = nil // closed by the server
		}
		out <- ending{after: time.Since(begin), answer: strings.TrimSpace(line), err: err}
	}
	const headers, bodies = 200, 50
	headerEnds, bodyEnds := make(chan ending, headers), make(chan ending, bodies)
	for range headers {
		go dribble("GET /ping HTTP/1.1\r\n", "Host: x\r\nX-Pad: "+strings.Repeat("y", 600)+"\r\n\r\n", headerEnds)
	}
	for range bodies {
		go dribble("POST /count HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 600\r\n\r\n", strings.Repeat("z", 600), bodyEnds)
	}

	// Another client is served all along, within two seconds each (they
	// take about a millisecond; the bound is for a machine busy with
	// other work).
	c := &http.Client{Timeout: 10 * time.Second}
	var slowest time.Duration
	for begin := time.Now(); time.Since(begin) < headerTimeout+bodyWindow; {
		t0 := time.Now()
		resp, err := c.Get("http://" + addr + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("another client: %s", resp.Status)
		}
		slowest = max(slowest, time.Since(t0))
		time.Sleep(20 * time.Millisecond)
	}
	if slowest > 2*time.Second {
		t.Errorf("another client waited %v for an answer", slowest)
	}

	for range headers {
		e := <-headerEnds
		if e.err != nil || e.after > headerTimeout+5*time.Second {
			t.Fatalf("a client dribbling its headers ended after %v: %q, %v", e.after, e.answer, e.err)
		}
	}
	for range bodies {
		e := <-bodyEnds
		if e.err != nil || e.after > bodyWindow+5*time.Second || (e.answer != "" && e.answer != "HTTP/1.1 400 Bad Request") {
			t.Fatalf("a client dribbling its body ended after %v: %q, %v", e.after, e.answer, e.err)
		}
	}
	t.Logf("%d header and %d body dribblers closed; the slowest other request took %v", headers, bodies, slowest)
}

// TestManyConnectionsHTTP: a client that opens 10,000 connections from
// one address gets 1,000 (the listener's limit per host) and a 503 that
// says so for each of the others, each logged; the server's memory stays
// within what 1,000 connections hold, and a client from another address
// is served meanwhile.
func TestManyConnectionsHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections; run without -short")
	}
	const total, perHost = 10000, 1000
	testneed.Files(t, 3*perHost+1000)
	var refusals atomic.Int64
	_, start := faultServer(t, hyperhttp.ConnLimits{MaxPerHost: perHost, Logger: logtest.Counter(&refusals, "glyph: connection refused")})
	addr := start()
	before := flood.HeapInUse()

	want := fmt.Sprintf("connect: too many connections from 127.0.0.1 (limit %d)", perHost)
	r := flood.Open(addr, total, func(nc net.Conn) (flood.Outcome, string) {
		io.WriteString(nc, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReaderSize(nc, 512), nil)
		if err != nil {
			return flood.OutcomeClosed, ""
		}
		body, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode == http.StatusOK:
			return flood.OutcomeServed, ""
		case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), want):
			return flood.OutcomeRefused, ""
		}
		return flood.OutcomeWrong, fmt.Sprintf("%s %q", resp.Status, body)
	})
	defer r.Close()
	// Each connection served holds net/http's buffers and goroutine
	// (measured about 16 KiB with both ends in this process); ten times
	// as many served would take ten times as much.
	r.CheckHeap(t, before, 48<<10)
	r.Check(t, perHost)
	waitFor(t, "every refusal logged", func() bool { return refusals.Load() == total-perHost })

	resp, err := clientFrom("127.0.0.2", nil).Get("http://" + addr + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another address: %s", resp.Status)
	}
}
