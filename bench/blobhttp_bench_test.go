package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// BenchmarkHTTPBlob (issue 18) moves a 64 MiB blob over loopback HTTP/1.1
// in one request, both ways, through glyph and through plain net/http, the
// loopback's limit for an HTTP server and client written in Go:
//
//   - download/glyph: a hyperhttp handler serving blob() → *wire.Blob,
//     the 64 MiB read from a bytes.Reader with content type
//     application/octet-stream; the client calls the form (Value.Call),
//     takes the answer's Blob and copies it to io.Discard.
//   - download/nethttp: a net/http handler that io.Copy's the same
//     bytes.Reader to the ResponseWriter; the client GETs it and io.Copy's
//     the body to io.Discard.
//   - upload/glyph: put(data *wire.Blob) → int, the function copying its
//     blob argument to io.Discard and answering the count; the client calls
//     the form with wire.NewBlob of a bytes.Reader (the blob envelope: the
//     raw request body).
//   - upload/nethttp: a net/http handler that io.Copy's the request body
//     to io.Discard and answers the count; the client POSTs the
//     bytes.Reader.
//
// The 64 MiB are generated once (pseudo-random, incompressible) and held
// in memory, so that what is timed is the transport and not the source.
// MB/s counts the blob's bytes.
func BenchmarkHTTPBlob(b *testing.B) {
	ctx := context.Background()
	data := sizedPayload(blobSize)
	for _, s := range blobHTTPSystems {
		srv := httptest.NewServer(s.handler())
		tr := newTransport()
		move, err := s.dial(ctx, &http.Client{Transport: tr}, srv.URL, data)
		if err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		b.Run(s.name, func(b *testing.B) {
			if n, err := move(ctx); err != nil || n != blobSize {
				b.Fatalf("moved %d bytes, %v; want %d", n, err, blobSize)
			}
			b.SetBytes(blobSize)
			b.ReportAllocs()
			cpu := startCPU()
			b.ResetTimer()
			for range b.N {
				if n, err := move(ctx); err != nil || n != blobSize {
					b.Fatalf("moved %d bytes, %v; want %d", n, err, blobSize)
				}
			}
			b.StopTimer()
			cpu.report(b)
		})
		tr.CloseIdleConnections()
		srv.Close()
	}
}

// blobHTTPSystem is one way of moving a blob: a server, and a client that
// moves data once per call of the function dial returns and says how many
// bytes arrived (at the client for a download, at the server for an
// upload).
type blobHTTPSystem struct {
	name    string
	handler func() http.Handler
	dial    func(ctx context.Context, hc *http.Client, baseURL string, data []byte) (func(context.Context) (int64, error), error)
}

var blobHTTPSystems = []blobHTTPSystem{
	{"download/nethttp", netHTTPBlobHandler, netHTTPDownloadDial},
	{"download/glyph", glyphBlobHandler, glyphDownloadDial},
	{"upload/nethttp", netHTTPBlobHandler, netHTTPUploadDial},
	{"upload/glyph", glyphBlobHandler, glyphUploadDial},
}

// blobData is what the blob servers send, set by the dial functions, and
// blobSink where the receiving side (the client of a download, the server
// of an upload) copies what it receives: io.Discard, or a hash in
// TestHTTPBlobSystems. One benchmark or test at a time uses them.
var (
	blobData []byte
	blobSink io.Writer = io.Discard
)

func glyphBlobHandler() http.Handler {
	s := service.New()
	s.MustFunc("blob", func() *wire.Blob {
		return wire.NewBlob("application/octet-stream", bytes.NewReader(blobData))
	})
	s.MustFunc("put", func(data *wire.Blob) (int64, error) {
		defer data.Close()
		return io.Copy(blobSink, data)
	}, service.Args("data"))
	return hyperhttp.NewHandler(s)
}

// glyphBlobForm returns the form name of the service at baseURL.
func glyphBlobForm(ctx context.Context, hc *http.Client, baseURL, name string) (*client.Value, error) {
	index, err := client.New(client.WithHTTPClient(hc)).Get(ctx, baseURL+"/")
	if err != nil {
		return nil, err
	}
	return index.Get(name)
}

func glyphDownloadDial(ctx context.Context, hc *http.Client, baseURL string, data []byte) (func(context.Context) (int64, error), error) {
	blobData = data
	form, err := glyphBlobForm(ctx, hc, baseURL, "blob")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (int64, error) {
		v, err := form.Call(ctx)
		if err != nil {
			return 0, err
		}
		blob, ok := v.Blob()
		if !ok {
			return 0, fmt.Errorf("blob() answered %v, not a blob", v.Any())
		}
		defer blob.Close()
		return io.Copy(blobSink, blob)
	}, nil
}

func glyphUploadDial(ctx context.Context, hc *http.Client, baseURL string, data []byte) (func(context.Context) (int64, error), error) {
	form, err := glyphBlobForm(ctx, hc, baseURL, "put")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (int64, error) {
		v, err := form.Call(ctx, wire.NewBlob("application/octet-stream", bytes.NewReader(data)))
		if err != nil {
			return 0, err
		}
		var n int64
		err = v.Decode(&n)
		return n, err
	}, nil
}

// netHTTPBlobHandler serves GET /blob (the bytes) and POST /put (the
// body's length).
func netHTTPBlobHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /blob", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, bytes.NewReader(blobData))
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(blobSink, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, strconv.FormatInt(n, 10))
	})
	return mux
}

func netHTTPDownloadDial(_ context.Context, hc *http.Client, baseURL string, data []byte) (func(context.Context) (int64, error), error) {
	blobData = data
	return func(ctx context.Context) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/blob", nil)
		if err != nil {
			return 0, err
		}
		res, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, &statusError{code: res.StatusCode}
		}
		return io.Copy(blobSink, res.Body)
	}, nil
}

func netHTTPUploadDial(_ context.Context, hc *http.Client, baseURL string, data []byte) (func(context.Context) (int64, error), error) {
	return func(ctx context.Context) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/put", bytes.NewReader(data))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(io.LimitReader(res.Body, 64))
		if err != nil {
			return 0, err
		}
		if res.StatusCode != http.StatusOK {
			return 0, &statusError{code: res.StatusCode, msg: string(body)}
		}
		return strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
	}, nil
}

// TestHTTPBlobSystems checks that every system of BenchmarkHTTPBlob
// moves the bytes it is given, all of them and the same ones (by SHA-256),
// on 3 MiB.
func TestHTTPBlobSystems(t *testing.T) {
	ctx := context.Background()
	data := sizedPayload(3 << 20)
	want := sha256.Sum256(data)
	for _, s := range blobHTTPSystems {
		t.Run(s.name, func(t *testing.T) {
			srv := httptest.NewServer(s.handler())
			defer srv.Close()
			tr := newTransport()
			defer tr.CloseIdleConnections()
			move, err := s.dial(ctx, &http.Client{Transport: tr}, srv.URL, data)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				h := sha256.New()
				blobSink = h
				n, err := move(ctx)
				blobSink = io.Discard
				if err != nil || n != int64(len(data)) {
					t.Fatalf("moved %d bytes, %v; want %d", n, err, len(data))
				}
				if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
					t.Fatalf("the bytes received hash to %x, want %x", got, want)
				}
			}
		})
	}
}
