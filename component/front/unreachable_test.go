package front_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// hiddenNames pairs each name the front must not serve with a name that
// never existed, of the same length, so that their answers can be
// compared byte for byte once the one name is put in place of the other.
var hiddenNames = []struct{ hidden, unknown string }{
	{"Catalog/drop", "Catalog/zzzz"}, // not public, in an interface that has public methods
	{"Vault/open", "Zzzzz/open"},     // in an interface with no public method
	{"Vault/", "Zzzzz/"},             // that interface's resource
}

var logref = regexp.MustCompile(`[0-9a-f]{16}`)

// sameAnswer fails unless the answer to the hidden name is the answer to
// the unknown one with the name swapped, logrefs aside.
func sameAnswer(t *testing.T, proto, hidden, unknown string, gotHidden, gotUnknown []byte) {
	t.Helper()
	h := logref.ReplaceAll(gotHidden, []byte("LOGREF0000000000"))
	u := logref.ReplaceAll(gotUnknown, []byte("LOGREF0000000000"))
	hp, up := strings.Split(hidden, "/"), strings.Split(unknown, "/")
	for i := range up {
		if up[i] != hp[i] {
			u = bytes.ReplaceAll(u, []byte(up[i]), []byte(hp[i]))
		}
	}
	if !bytes.Equal(h, u) {
		t.Errorf("%s: %s is answered\n%q\nand the unknown %s\n%q", proto, hidden, gotHidden, unknown, gotUnknown)
	}
	if testing.Verbose() {
		t.Logf("%s %s: %q", proto, hidden, gotHidden)
	}
	if bytes.Contains(gotHidden, []byte("Open")) || bytes.Contains(gotHidden, []byte("secret")) {
		t.Errorf("%s: the answer to %s shows what is behind it: %q", proto, hidden, gotHidden)
	}
}

// rawHTTP sends a request to the front and returns its status line, its
// headers but Date, and its body.
func rawHTTP(t *testing.T, method, url, contentType, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s\n", resp.Status)
	resp.Header.Write(&out)
	out.WriteString("\n")
	out.Write(b)
	return out.Bytes()
}

// recorder is a FrameConn that keeps the frames it reads.
type recorder struct {
	peer.FrameConn
	mu   sync.Mutex // guards read
	read [][]byte
}

func (r *recorder) ReadFrame(ctx context.Context) (peer.Frame, error) {
	f, err := r.FrameConn.ReadFrame(ctx)
	if err == nil && len(f.Data) > 0 {
		r.mu.Lock()
		r.read = append(r.read, bytes.Clone(f.Data))
		r.mu.Unlock()
	}
	return f, err
}

func (r *recorder) last() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.read[len(r.read)-1]
}

// peerAnswer calls method over a new peer connection to the front and
// returns the frame it was answered with.
func peerAnswer(t *testing.T, d *deployment, method string) []byte {
	t.Helper()
	ctx := context.Background()
	fc, err := peer.Dial(ctx, d.ws)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{FrameConn: fc}
	c, err := peer.Client(ctx, rec, peer.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Call(ctx, method, []any{"k"}); err == nil {
		t.Fatalf("peers: %s answered", method)
	}
	return rec.last()
}

// TestNotPublicIsNotFound: a method not marked public, and an interface
// with none, cannot be reached through the front on any protocol, and
// the answer is the one a name that never existed gets: the same bytes,
// but for the name and the logref.
func TestNotPublicIsNotFound(t *testing.T) {
	d := newDeployment(t)
	for _, n := range hiddenNames {
		answers := map[string][2][]byte{}
		ask := func(proto string, f func(name string) []byte) {
			answers[proto] = [2][]byte{f(n.hidden), f(n.unknown)}
		}
		ask("HTTP GET", func(name string) []byte { return rawHTTP(t, "GET", d.url+name, "", "") })
		if strings.HasSuffix(n.hidden, "/") {
			for proto, a := range answers {
				sameAnswer(t, proto, n.hidden, n.unknown, a[0], a[1])
				if !bytes.HasPrefix(a[0], []byte("404 ")) {
					t.Errorf("%s %s: %q, want a 404", proto, n.hidden, a[0])
				}
			}
			continue
		}
		ask("HTTP POST", func(name string) []byte {
			body, err := wire.Marshal(wire.NewOrderedDict())
			if err != nil {
				t.Fatal(err)
			}
			return rawHTTP(t, "POST", d.url+name, "application/vnd.hyperglyph", string(body))
		})
		method := strings.ReplaceAll(n.hidden, "/", ".")
		ask("JSON-RPC", func(name string) []byte {
			return rawHTTP(t, "POST", d.url+"jsonrpc", "application/json",
				`{"jsonrpc":"2.0","id":7,"method":"`+strings.ReplaceAll(name, "/", ".")+`","params":["k"]}`)
		})
		ask("XML-RPC", func(name string) []byte {
			return rawHTTP(t, "POST", d.url+"RPC2", "text/xml",
				`<?xml version="1.0"?><methodCall><methodName>`+strings.ReplaceAll(name, "/", ".")+
					`</methodName><params><param><value><string>k</string></value></param></params></methodCall>`)
		})
		ask("peers", func(name string) []byte { return peerAnswer(t, d, name) })
		for proto, a := range answers {
			sameAnswer(t, proto, n.hidden, n.unknown, a[0], a[1])
			switch proto {
			case "HTTP GET", "HTTP POST":
				if !bytes.HasPrefix(a[0], []byte("404 ")) {
					t.Errorf("%s %s: %q, want a 404", proto, n.hidden, a[0])
				}
			case "JSON-RPC":
				if !bytes.Contains(a[0], []byte(`"code":-32601`)) {
					t.Errorf("%s %s: %q, want method not found (-32601)", proto, method, a[0])
				}
			}
		}
	}
}

// TestListingsHideNotPublic: XML-RPC's system.listMethods lists the
// public methods only.
func TestListingsHideNotPublic(t *testing.T) {
	d := newDeployment(t)
	var got []string
	if err := xmlrpc.NewClient(d.url+"RPC2").Call(context.Background(), "system.listMethods", nil, nil, &got); err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, m := range got {
		if !strings.HasPrefix(m, "system.") {
			mine = append(mine, m)
		}
	}
	if want := []string{"Catalog.count", "Catalog.echo", "Catalog.lookup"}; !slices.Equal(sorted(mine), want) {
		t.Errorf("system.listMethods lists %v, want %v", got, want)
	}
}
