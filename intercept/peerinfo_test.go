package intercept_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// TestPeerFromContext: a service's function finds its caller the same
// way whatever the transport: the client certificate under mutual TLS
// over HTTPS and over tls:// peers, the Unix credentials over a Unix
// socket.
func TestPeerFromContext(t *testing.T) {
	svc := service.New()
	svc.MustFunc("whoami", func(ctx context.Context) (string, error) {
		p, ok := intercept.PeerFromContext(ctx)
		switch {
		case !ok:
			return "", service.Errorf(service.KindInternal, "no peer in the context")
		case p.TLS != nil && len(p.TLS.VerifiedChains) > 0:
			return p.Transport + " " + p.TLS.VerifiedChains[0][0].Subject.CommonName, nil
		case p.Cred != nil:
			return fmt.Sprintf("%s uid=%d pid=%d", p.Transport, p.Cred.UID, p.Cred.PID), nil
		}
		return p.Transport + " anonymous", nil
	})
	ca := peertest.NewCA(t, "test CA")
	serverTLS := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "server", true)},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool}
	https := httptest.NewUnstartedServer(hyperhttp.NewHandler(svc))
	https.TLS = serverTLS
	https.StartTLS()
	t.Cleanup(https.Close)
	tlsPeer := peertest.ServeService(t, "tls://127.0.0.1:0", svc, peer.WithTLS(serverTLS))
	unixPeer := peertest.ServeService(t, "unix://"+filepath.Join(peertest.ShortTempDir(t), "s.sock"), svc)

	c := client.New(client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: ca.Pool, Certificates: []tls.Certificate{ca.Issue(t, "alice", false)}}}}))
	t.Cleanup(func() { c.Close() })
	want := []struct{ url, answer string }{
		{https.URL + "/", "http alice"},
		{tlsPeer, "tls alice"},
	}
	if runtime.GOOS == "linux" {
		want = append(want, struct{ url, answer string }{unixPeer, fmt.Sprintf("unix uid=%d pid=%d", os.Getuid(), os.Getpid())})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, w := range want {
		idx, err := c.Get(ctx, w.url)
		if err != nil {
			t.Fatalf("%s: %v", w.url, err)
		}
		v, err := idx.Path(ctx, "whoami")
		if err != nil || v.Any() != w.answer {
			t.Errorf("whoami at %s: %v, %v; want %q", w.url, v.Any(), err, w.answer)
		}
	}
}
