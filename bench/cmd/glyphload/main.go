// Command glyphload is the load campaign of issue 18: it serves a glyph
// service from a child process on loopback, over HTTP (hyperhttp behind
// NewServer and LimitListener, as a deployment would) and over peers
// (peer.Serve on TCP with hyperpeer), and calls it as fast as the
// machine allows for a set time, from a fixed number of callers at once
// (a closed loop). It reports throughput, latency percentiles, errors,
// and every few seconds the server's resident memory and live heap, so
// that a reader can see memory stop growing.
//
//	go run ./cmd/glyphload -duration 60s -conc 32
//
// The calls are unary: hello("bob") → "Hello bob", through package
// client over HTTP (a form Call, as a program would make it) and
// peer.Conn.Call over peers (several connections, callers spread over
// them). The transport nethttp is the control: the same call to a
// net/http handler written by hand with encoding/json, from the same
// driver, which shows what of the latency is the machine's. Only
// loopback addresses are used.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// serveEnv, set to 1 in the environment, makes the program the server:
// the driver starts itself so.
const serveEnv = "GLYPHLOAD_SERVE"

func main() {
	duration := flag.Duration("duration", 60*time.Second, "how long each transport is loaded")
	transports := flag.String("transport", "http,peer", "the transports to load, in order: http, peer, and nethttp (the control: net/http with encoding/json, no glyph)")
	conc := flag.Int("conc", 32, "callers at once")
	rate := flag.Float64("rate", 0, "calls a second, started on schedule whether or not earlier ones ended (an open loop, latency counted from when a call was due); 0: each caller calls again as soon as its call ends")
	conns := flag.Int("conns", 4, "peer connections the callers share")
	every := flag.Duration("sample", 5*time.Second, "how often memory is sampled")
	flag.Parse()
	if os.Getenv(serveEnv) == "1" {
		serve()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pace := "as fast as they can"
	if *rate > 0 {
		pace = fmt.Sprintf("at %.0f calls/s in all", *rate)
	}
	fmt.Printf("glyphload: %s per transport, %d callers %s, GOMAXPROCS %d, %s\n", *duration, *conc, pace, runtime.GOMAXPROCS(0), runtime.Version())
	failed := false
	for _, tr := range strings.Split(*transports, ",") {
		r, err := load(ctx, tr, *duration, *conc, *conns, *rate, *every)
		if err != nil {
			fmt.Fprintf(os.Stderr, "glyphload %s: %v\n", tr, err)
			os.Exit(1)
		}
		r.print(os.Stdout)
		failed = failed || r.errors > 0
	}
	if failed {
		os.Exit(2)
	}
}

// newService is the service both transports serve.
func newService() *service.Service {
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	svc.MustFunc("hello", func(name string) string { return "Hello " + name }, service.Args("name"))
	svc.MustFunc("stats", func() map[string]int64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/sched/goroutines:goroutines"}}
		metrics.Read(s)
		return map[string]int64{"heap": int64(s[0].Value.Uint64()), "goroutines": int64(s[1].Value.Uint64())}
	}, service.Safe())
	return svc
}

// serve runs the server, or exits with an error.
func serve() {
	if err := runServer(); err != nil {
		fmt.Fprintln(os.Stderr, "glyphload server:", err)
		os.Exit(1)
	}
}

// runServer serves the service over HTTP and peers on loopback, writes
// "http=ADDR peer=ADDR" on a line of its standard output, and serves
// until its standard input closes.
func runServer() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := newService()
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := hyperhttp.NewServer("", hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
	go hs.Serve(hyperhttp.LimitListener(hln, hyperhttp.ConnLimits{}))
	nln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ns := &http.Server{Handler: http.HandlerFunc(plainHello)}
	go ns.Serve(nln)
	pl, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		return err
	}
	go peer.Serve(ctx, pl, peer.WithHandler(hyperpeer.NewHandler(svc)))
	fmt.Printf("http=%s peer=%s nethttp=%s\n", hln.Addr(), pl.Addr(), nln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the driver closes it or exits
	return hs.Close()
}

// plainHello is the control: hello as a net/http handler would be
// written by hand, {"name":"bob"} in, {"greeting":"Hello bob"} out.
func plainHello(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Greeting string `json:"greeting"`
	}{"Hello " + in.Name})
}

// server is the child process serving the service.
type server struct {
	cmd                 *exec.Cmd
	stdin               io.Closer
	http, peer, nethttp string
}

func startServer() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("the server said nothing: %w", err)
	}
	s := &server{cmd: cmd, stdin: stdin}
	for f := range strings.FieldsSeq(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "http":
			s.http = v
		case "peer":
			s.peer = v
		case "nethttp":
			s.nethttp = v
		}
	}
	return s, nil
}

func (s *server) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// rss returns the server's resident set in bytes (Linux), or -1.
func (s *server) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// stats returns the server's live heap and goroutines, asked over HTTP.
func (s *server) stats(ctx context.Context) (heap, goroutines int64) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.http+"/stats", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
	var m map[string]int64
	if json.NewDecoder(resp.Body).Decode(&m) != nil {
		return -1, -1
	}
	return m["heap"], m["goroutines"]
}

// A call makes one hello call.
type call func(ctx context.Context) error

// callers returns n callers of the transport tr of s, and a function
// that releases what they hold.
func callers(ctx context.Context, tr string, s *server, n, conns int) ([]call, func(), error) {
	check := func(v any, err error) error {
		if err != nil {
			return err
		}
		if v != "Hello bob" {
			return fmt.Errorf("answered %v", v)
		}
		return nil
	}
	switch tr {
	case "http":
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
		c := client.New(client.WithHTTPClient(hc))
		index, err := c.Get(ctx, "http://"+s.http+"/")
		if err != nil {
			return nil, nil, err
		}
		hello, err := index.Get("hello")
		if err != nil {
			return nil, nil, err
		}
		one := func(ctx context.Context) error {
			v, err := hello.Call(ctx, "bob")
			if err != nil {
				return err
			}
			var str string
			if err := v.Decode(&str); err != nil {
				return err
			}
			return check(str, nil)
		}
		return slices.Repeat([]call{one}, n), hc.CloseIdleConnections, nil
	case "nethttp":
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
		url := "http://" + s.nethttp + "/hello"
		one := func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(`{"name":"bob"}`))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var out struct{ Greeting string }
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				return err
			}
			return check(out.Greeting, nil)
		}
		return slices.Repeat([]call{one}, n), hc.CloseIdleConnections, nil
	case "peer":
		var cs []*peer.Conn
		closeAll := func() {
			for _, c := range cs {
				c.Close()
			}
		}
		for range conns {
			fc, err := peer.Dial(ctx, s.peer)
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			c, err := peer.Client(ctx, fc)
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			cs = append(cs, c)
		}
		var out []call
		for i := range n {
			c := cs[i%len(cs)]
			out = append(out, func(ctx context.Context) error { return check(c.Call(ctx, "hello", []any{"bob"})) })
		}
		return out, closeAll, nil
	}
	return nil, nil, fmt.Errorf("unknown transport %q (http, peer, nethttp)", tr)
}

// A sample is the state every few seconds of a run.
type sample struct {
	at                    time.Duration
	calls                 int64 // in the interval
	interval              time.Duration
	rss, heap, goroutines int64
}

type result struct {
	transport string
	conc      int
	elapsed   time.Duration
	calls     int64
	errors    int64
	firstErr  error
	latencies []time.Duration // sorted
	samples   []sample
}

// load runs one transport's campaign.
func load(ctx context.Context, tr string, d time.Duration, conc, conns int, rate float64, every time.Duration) (*result, error) {
	s, err := startServer()
	if err != nil {
		return nil, err
	}
	defer s.stop()
	cs, release, err := callers(ctx, tr, s, conc, conns)
	if err != nil {
		return nil, err
	}
	defer release()
	// Warm up: a second of calls, not counted.
	warm, cancelWarm := context.WithTimeout(ctx, time.Second)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for warm.Err() == nil {
				c(warm)
			}
		})
	}
	wg.Wait()
	cancelWarm()

	r := &result{transport: tr, conc: conc}
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		calls, errs atomic.Int64
		mu          sync.Mutex // guards r.latencies and r.firstErr
	)
	start := time.Now()
	// With a rate, calls are due on a schedule and each caller takes the
	// next due time; without one, a caller's next call is due at once.
	var due chan time.Time
	if rate > 0 {
		due = make(chan time.Time, conc)
		go schedule(runCtx, due, start, rate)
	}
	for _, c := range cs {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<16)
			for runCtx.Err() == nil {
				t0 := time.Now()
				if due != nil {
					var ok bool
					select {
					case t0, ok = <-due:
						if !ok {
							continue // the run is over
						}
					case <-runCtx.Done():
						continue
					}
				}
				err := c(runCtx)
				if err != nil && runCtx.Err() != nil {
					break // cut short by the end of the run
				}
				lat = append(lat, time.Since(t0))
				calls.Add(1)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if r.firstErr == nil {
						r.firstErr = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			r.latencies = append(r.latencies, lat...)
			mu.Unlock()
		})
	}
	t := time.NewTicker(every)
	last, lastAt := int64(0), start
	record := func(now time.Time) {
		n := calls.Load()
		heap, gs := s.stats(ctx)
		r.samples = append(r.samples, sample{at: now.Sub(start), calls: n - last, interval: now.Sub(lastAt), rss: s.rss(), heap: heap, goroutines: gs})
		last, lastAt = n, now
	}
loop:
	for {
		select {
		case now := <-t.C:
			record(now)
		case <-runCtx.Done():
			break loop
		}
	}
	t.Stop()
	wg.Wait()
	r.elapsed = time.Since(start)
	r.calls, r.errors = calls.Load(), errs.Load()
	slices.Sort(r.latencies)
	if ctx.Err() != nil {
		return r, errors.New("interrupted")
	}
	return r, nil
}

// schedule sends on due the times calls are due, rate a second from
// start, until ctx ends: every millisecond, those due by then. A send
// that waits for a free caller delays the next ones, but not their due
// times: a caller that takes one late counts the wait in its latency.
func schedule(ctx context.Context, due chan<- time.Time, start time.Time, rate float64) {
	defer close(due)
	interval := time.Duration(float64(time.Second) / rate)
	next := start
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for ; !next.After(now); next = next.Add(interval) {
				select {
				case due <- next:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// percentile returns the nearest-rank percentile p (0 to 100) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *result) print(w io.Writer) {
	p50, p99, p999 := percentile(r.latencies, 50), percentile(r.latencies, 99), percentile(r.latencies, 99.9)
	fmt.Fprintf(w, "\n%s: %d calls in %v: %.0f calls/s, %d errors\n", r.transport, r.calls, r.elapsed.Round(time.Millisecond), float64(r.calls)/r.elapsed.Seconds(), r.errors)
	if r.firstErr != nil {
		fmt.Fprintf(w, "  first error: %v\n", r.firstErr)
	}
	if len(r.latencies) == 0 {
		return
	}
	fmt.Fprintf(w, "  latency p50 %v  p99 %v  p99.9 %v  max %v  (p99/p50 %.1f)\n", p50.Round(time.Microsecond), p99.Round(time.Microsecond),
		p999.Round(time.Microsecond), r.latencies[len(r.latencies)-1].Round(time.Microsecond), float64(p99)/float64(max(p50, 1)))
	fmt.Fprintf(w, "  %8s %10s %10s %10s %10s\n", "at", "calls/s", "rss MiB", "heap MiB", "goroutines")
	for _, s := range r.samples {
		fmt.Fprintf(w, "  %8s %10.0f %10.1f %10.1f %10d\n", s.at.Round(time.Second), float64(s.calls)/s.interval.Seconds(), mib(s.rss), mib(s.heap), s.goroutines)
	}
}

func mib(n int64) float64 {
	if n < 0 {
		return -1
	}
	return float64(n) / (1 << 20)
}
