package peer_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// identityHandler answers "who" with what the connection of the call
// (found through the call's context) says of the remote: its verified
// certificate's subject, or its process credentials.
var identityHandler = peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
	c := peer.ConnFromContext(ctx)
	if c != s.Conn() {
		return nil, fmt.Errorf("ConnFromContext gave %p, the stream's is %p", c, s.Conn())
	}
	switch s.Method() {
	case "subject":
		st := c.TLS()
		if st == nil {
			return "no tls", nil
		}
		if len(st.VerifiedChains) == 0 {
			return "no verified client certificate", nil
		}
		return st.VerifiedChains[0][0].Subject.String(), nil
	case "cred":
		cr := c.PeerCred()
		if cr == nil {
			return "no credentials", nil
		}
		return fmt.Sprintf("uid=%d gid=%d pid=%d", cr.UID, cr.GID, cr.PID), nil
	}
	return nil, &service.Error{Kind: service.KindNotFound, Message: s.Method()}
})

// serveIdentity serves identityHandler on a listener for addr until the
// test ends, and returns the listener's address.
func serveIdentity(t *testing.T, addr string, opts ...peer.ListenOption) string {
	t.Helper()
	l, err := peer.Listen(context.Background(), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		peer.Serve(ctx, l, peer.WithHandler(identityHandler), peer.WithHandshakeTimeout(5*time.Second))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return l.Addr()
}

// dialCall dials addr, runs the handshake and calls method.
func dialCall(ctx context.Context, addr, method string, opts ...peer.DialOption) (any, *peer.Conn, error) {
	fc, err := peer.Dial(ctx, addr, opts...)
	if err != nil {
		return nil, nil, err
	}
	c, err := peer.Client(ctx, fc, peer.WithHandshakeTimeout(5*time.Second))
	if err != nil {
		return nil, nil, err
	}
	v, err := c.Call(ctx, method, nil)
	return v, c, err
}

func TestTLS(t *testing.T) {
	ca, otherCA := peertest.NewCA(t, "glyph test CA"), peertest.NewCA(t, "another CA")
	serverCert := ca.Issue(t, "server", true)
	clientCert := ca.Issue(t, "client-a", false)
	strangerCert := otherCA.Issue(t, "stranger", false)

	plain := serveIdentity(t, "tls://127.0.0.1:0", peer.WithTLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}))
	mutual := serveIdentity(t, "tls://127.0.0.1:0", peer.WithTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool,
	}))
	if !strings.HasPrefix(plain, "tls://127.0.0.1:") {
		t.Fatalf("Addr %q", plain)
	}

	tests := []struct {
		name     string
		addr     string
		cfg      *tls.Config
		want     string       // the answer to "subject"
		kind     service.Kind // of the error, when it fails
		errParts []string     // what its message says
	}{
		{name: "server only", addr: plain, cfg: &tls.Config{RootCAs: ca.Pool}, want: "no verified client certificate"},
		{name: "mutual", addr: mutual, cfg: &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{clientCert}},
			want: "CN=client-a,O=glyph tests"},
		{name: "localhost as the server name", addr: strings.Replace(mutual, "127.0.0.1", "localhost", 1),
			cfg: &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{clientCert}}, want: "CN=client-a,O=glyph tests"},
		{name: "wrong CA", addr: plain, cfg: &tls.Config{RootCAs: otherCA.Pool}, kind: service.KindUnauthenticated,
			errParts: []string{"handshake: tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
		{name: "system roots", addr: plain, kind: service.KindUnauthenticated,
			errParts: []string{"handshake: tls: failed to verify certificate"}},
		{name: "wrong server name", addr: plain, cfg: &tls.Config{RootCAs: ca.Pool, ServerName: "example.com"},
			kind: service.KindUnauthenticated, errParts: []string{"example.com"}},
		{name: "mutual without a client certificate", addr: mutual, cfg: &tls.Config{RootCAs: ca.Pool},
			kind: service.KindUnauthenticated, errParts: []string{"handshake: the remote ended the TLS handshake: tls: certificate required"}},
		// Go's client sends no certificate whose issuer the server did
		// not name: as if it had none.
		{name: "mutual with a certificate of another CA", addr: mutual,
			cfg:  &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{strangerCert}},
			kind: service.KindUnauthenticated, errParts: []string{"handshake: the remote ended the TLS handshake: tls: certificate required"}},
		{name: "mutual sending a certificate of another CA", addr: mutual,
			cfg: &tls.Config{RootCAs: ca.Pool, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return &strangerCert, nil
			}},
			kind: service.KindUnauthenticated, errParts: []string{"handshake: the remote ended the TLS handshake: tls: unknown certificate authority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxTimeout(t, 10*time.Second)
			var opts []peer.DialOption
			if tt.cfg != nil {
				opts = append(opts, peer.WithTLS(tt.cfg))
			}
			v, c, err := dialCall(ctx, tt.addr, "subject", opts...)
			if c != nil {
				defer c.Close()
			}
			if tt.errParts != nil {
				if err == nil {
					t.Fatalf("succeeded: %v", v)
				}
				if k := kindOf(t, err); k != tt.kind {
					t.Errorf("kind %v, want %v: %v", k, tt.kind, err)
				}
				for _, p := range tt.errParts {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("error %q does not say %q", err, p)
					}
				}
				if n := strings.Count(err.Error(), "tls:"); n > 1 {
					t.Errorf("error %q says tls: %d times", err, n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.want {
				t.Errorf("subject %q, want %q", v, tt.want)
			}
			st := c.TLS()
			if st == nil || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "server" {
				t.Errorf("the client's TLS state: %+v", st)
			}
		})
	}
}

func TestTLSPlainConnectionHasNoTLSState(t *testing.T) {
	addr := serveIdentity(t, "tcp://127.0.0.1:0")
	v, c, err := dialCall(ctxTimeout(t, 10*time.Second), addr, "subject")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v != "no tls" || c.TLS() != nil {
		t.Errorf("tcp:// answered %q, TLS %v", v, c.TLS())
	}
}

func TestListenTLSNeedsACertificate(t *testing.T) {
	ctx := ctxTimeout(t, 5*time.Second)
	for _, opts := range [][]peer.ListenOption{nil, {peer.WithTLS(nil)}, {peer.WithTLS(&tls.Config{})}} {
		l, err := peer.Listen(ctx, "tls://127.0.0.1:0", opts...)
		if err == nil {
			l.Close()
			t.Fatalf("Listen tls:// with %d options succeeded", len(opts))
		}
		if kindOf(t, err) != service.KindInvalid || !strings.Contains(err.Error(), "WithTLS") {
			t.Errorf("Listen tls:// without a certificate: %v", err)
		}
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	// A server that accepts and says nothing: the TLS handshake waits for
	// its answer no longer than the peer handshake's timeout.
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	go func() {
		for {
			c, err := nl.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx := ctxTimeout(t, 10*time.Second)
	fc, err := peer.Dial(ctx, "tls://"+nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = peer.Client(ctx, fc, peer.WithHandshakeTimeout(50*time.Millisecond))
	if kindOf(t, err) != service.KindDeadlineExceeded {
		t.Errorf("a TLS handshake nobody answers: %v", err)
	}
}

func TestUnixPeerCred(t *testing.T) {
	addr := serveIdentity(t, "unix://"+filepath.Join(shortTempDir(t), "cred.sock"))
	v, c, err := dialCall(ctxTimeout(t, 10*time.Second), addr, "cred")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if runtime.GOOS != "linux" {
		if v != "no credentials" || c.PeerCred() != nil {
			t.Errorf("on %s: %v, %v", runtime.GOOS, v, c.PeerCred())
		}
		return
	}
	want := fmt.Sprintf("uid=%d gid=%d pid=%d", os.Getuid(), os.Getgid(), os.Getpid())
	if v != want {
		t.Errorf("the handler saw %q, want %q", v, want)
	}
	// The connecting side sees the listener's process: this one too.
	if cr := c.PeerCred(); cr == nil || int(cr.PID) != os.Getpid() || int(cr.UID) != os.Getuid() {
		t.Errorf("the client's PeerCred %+v", cr)
	}
}

func TestWebSocketTLSClientCertificate(t *testing.T) {
	ca := peertest.NewCA(t, "glyph test CA")
	srv := httptest.NewUnstartedServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		if _, err := peer.Server(context.Background(), fc, peer.WithHandler(identityHandler)); err != nil {
			t.Errorf("server handshake: %v", err)
		}
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Issue(t, "server", true)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:      ca.Pool,
		Certificates: []tls.Certificate{ca.Issue(t, "browser-b", false)},
	}}}
	addr := "wss://" + strings.TrimPrefix(srv.URL, "https://") + "/"
	v, c, err := dialCall(ctxTimeout(t, 10*time.Second), addr, "subject", peer.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if want := "CN=browser-b,O=glyph tests"; v != want {
		t.Errorf("the handler saw %q, want %q", v, want)
	}
	if st := c.TLS(); st == nil || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "server" {
		t.Errorf("the client's TLS state: %+v", st)
	}
}

// Peers over tls://: Bind with WithTLS, Connect with the dial options'.
func TestPeerTLS(t *testing.T) {
	ca := peertest.NewCA(t, "glyph test CA")
	server := newPeer(t, peer.WithHandler(identityHandler))
	addr, err := server.Bind(ctxTimeout(t, 5*time.Second), "tls://127.0.0.1:0", peer.WithTLS(&tls.Config{
		Certificates: []tls.Certificate{ca.Issue(t, "server", true)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool,
	}))
	if err != nil {
		t.Fatal(err)
	}
	client := newPeer(t, fastBackoff, peer.WithDialOptions(peer.WithTLS(&tls.Config{
		RootCAs:      ca.Pool,
		Certificates: []tls.Certificate{ca.Issue(t, "peer-c", false)},
	})))
	if err := client.Connect(addr); err != nil {
		t.Fatal(err)
	}
	v, err := client.Call(ctxTimeout(t, 10*time.Second), "subject", nil)
	if want := "CN=peer-c,O=glyph tests"; err != nil || v != want {
		t.Errorf("subject: %v, %v; want %q", v, err, want)
	}
}
