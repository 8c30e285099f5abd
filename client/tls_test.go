package client_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/service"
)

// tls:// URLs: the client trusts and presents what its HTTP client's TLS
// config says, and the service's function sees the client's certificate.
func TestTLSPeerURL(t *testing.T) {
	ca := peertest.NewCA(t, "glyph test CA")
	addr := ca.ServeWhoami(t)

	withConfig := func(tc *tls.Config) *client.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		c := client.New(client.WithHTTPClient(&http.Client{Transport: tr}))
		t.Cleanup(func() { c.Close() })
		return c
	}
	tests := []struct {
		name string
		cfg  *tls.Config
		want string
		kind service.Kind
	}{
		{"client certificate", &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{ca.Issue(t, "cli", false)}}, "cli", 0},
		{"no client certificate", &tls.Config{RootCAs: ca.Pool}, "", service.KindUnauthenticated},
		{"system roots", nil, "", service.KindUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client.New()
			if tt.cfg != nil {
				c = withConfig(tt.cfg)
			}
			rctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
			defer stop()
			index, err := c.Get(rctx, addr)
			if tt.kind != 0 {
				if service.KindOf(err) != tt.kind {
					t.Fatalf("Get %s: %v, want kind %v", addr, err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := index.Path(rctx, "whoami")
			if err != nil {
				t.Fatal(err)
			}
			if v.Any() != tt.want {
				t.Errorf("whoami: %v, want %q", v.Any(), tt.want)
			}
		})
	}
}
