package hyperhttp_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/wire"
)

// watchHeap runs f while a goroutine samples runtime.MemStats.HeapInuse
// every millisecond, and returns the peak growth over the heap in use
// before f (after a GC).
func watchHeap(t testing.TB, f func()) uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// streamBytes is the size of the bodies of TestStreaming.
const streamBytes = 100 << 20

// maxHeapGrowth is what the server and the client together may add to the
// heap while streaming: far less than one body.
const maxHeapGrowth = 32 << 20

// TestStreaming sends 100 MB to functions that take a *wire.Blob and an
// io.Reader (raw and inside a form), through a function that answers its
// request blob, and has a function answer a 100 MB blob, raw and inside a
// glyph value, all generated and checked on the fly: the heap of server
// and client together grows by less than 32 MB.
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 100 MB six times per connection type")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := newTestServer(t, mode, nil)
			upload := func(target string, header http.Header) *response {
				body := io.LimitReader(&patternReader{}, streamBytes)
				return s.do(t, "POST", target, header, body)
			}
			cases := []struct {
				name string
				run  func(t *testing.T)
			}{
				{"upload to *wire.Blob", func(t *testing.T) {
					r := upload("/measure", hdr("Content-Type", "application/x-pattern"))
					wantValue(t, r, map[string]any{"type": "application/x-pattern", "bytes": int64(streamBytes)})
				}},
				{"upload to io.Reader", func(t *testing.T) {
					wantValue(t, upload("/count", hdr("Content-Type", "application/octet-stream")), int64(streamBytes))
				}},
				{"upload in a form", func(t *testing.T) {
					// The form envelope with the blob inside: spooled to a
					// temporary file before the call.
					pr, pw := io.Pipe()
					go func() {
						err := wire.NewEncoder(pw).Encode(wire.NewOrderedDict("data",
							wire.NewBlob("application/x-pattern", io.LimitReader(&patternReader{}, streamBytes))))
						pw.CloseWithError(err)
					}()
					r := s.do(t, "POST", "/measure", hdr("Content-Type", hyperhttp.MediaType), pr)
					wantValue(t, r, map[string]any{"type": "application/x-pattern", "bytes": int64(streamBytes)})
				}},
				{"pipe the request blob into the response", func(t *testing.T) {
					// The function answers the request's own blob: the
					// response streams while the request arrives.
					body := io.LimitReader(&patternReader{}, streamBytes)
					req, _ := http.NewRequest("POST", s.URL+"/pipe", body)
					req.Header.Set("Content-Type", "application/x-pattern")
					resp, err := s.client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-pattern" {
						t.Fatalf("status %d, %v", resp.StatusCode, resp.Header)
					}
					if n, err := readPattern(resp.Body); err != nil || n != streamBytes {
						t.Fatalf("read %d bytes: %v", n, err)
					}
				}},
				{"download a raw blob", func(t *testing.T) {
					target := fmt.Sprintf("/download?Ou4%%3Asize%%3Bi%d%%3B%%3B", streamBytes)
					req, _ := http.NewRequest("GET", s.URL+target, nil)
					resp, err := s.client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
						t.Fatalf("status %d, %v", resp.StatusCode, resp.Header)
					}
					if n, err := readPattern(resp.Body); err != nil || n != streamBytes {
						t.Fatalf("read %d bytes: %v", n, err)
					}
				}},
				{"download a blob in a value", func(t *testing.T) {
					target := fmt.Sprintf("/attach?Ou4%%3Asize%%3Bi%d%%3B%%3B", streamBytes)
					req, _ := http.NewRequest("GET", s.URL+target, nil)
					resp, err := s.client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					dec := wire.NewDecoderConfig(resp.Body, wire.DecodeConfig{SpoolThreshold: -1})
					var v map[string]any
					if err := dec.Decode(&v); err != nil {
						t.Fatal(err)
					}
					if n, err := readPattern(v["data"].(*wire.Blob)); err != nil || n != streamBytes || v["name"] != "pattern" {
						t.Fatalf("read %d bytes: %v; %v", n, err, v["name"])
					}
				}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					start := time.Now()
					grew := watchHeap(t, func() { c.run(t) })
					t.Logf("%v, heap grew by %.1f MiB", time.Since(start).Round(time.Millisecond), float64(grew)/(1<<20))
					if grew > maxHeapGrowth {
						t.Errorf("heap grew by %d MiB, want under %d MiB", grew>>20, maxHeapGrowth>>20)
					}
				})
			}
		})
	}
}
