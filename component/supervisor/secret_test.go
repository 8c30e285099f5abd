package supervisor_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/service"
)

// runNATS runs a NATS server on a free loopback port until the test ends.
func runNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// Every listener of a component process refuses a call without a proof
// of the deployment's secret, or with a proof of another secret: 401
// over HTTP, unauthenticated over peers (unix, tcp, WebSocket), JSON-RPC,
// XML-RPC and NATS; and the process logs the refusal.
func TestSecretRefusedOnEveryTransport(t *testing.T) {
	natsURL := runNATS(t)
	s, out := start(t, `
version: 1
nats: `+natsURL+`
components:
  Echo:
    binary: BINARY
    transport: http
  Relay:
    binary: BINARY
    uses: [Echo]
`)
	s2, out2 := start(t, `
version: 1
nats: `+natsURL+`
components:
  Echo:
    binary: BINARY
    transport: nats
  Relay:
    binary: BINARY
    transport: tcp
    uses: [Echo]
`)
	echoHTTP := status(t, s, "Echo").Addresses[0] // http://127.0.0.1:port/
	base := strings.TrimPrefix(echoHTTP, "http://")
	targets := []struct {
		sup   interface{ Keyring() *secret.Keyring }
		iface string
		url   string
	}{
		{s, "Echo", echoHTTP},
		{s, "Echo", "ws://" + base + "peer"},
		{s, "Echo", "jsonrpc+http://" + base + "jsonrpc"},
		{s, "Echo", "xmlrpc+http://" + base + "RPC2"},
		{s, "Relay", status(t, s, "Relay").Addresses[0]},   // unix://
		{s2, "Relay", status(t, s2, "Relay").Addresses[0]}, // tcp://
		{s2, "Echo", natsURL + "/glyph/Echo"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call := func(keyring *secret.Keyring, iface, url string) error {
		opts := []component.RouterOption{component.WithRoutes(component.Routes{iface: {Providers: []string{url}, Fail: component.FailFast}})}
		if keyring != nil {
			opts = append(opts, component.WithCallHeaderFunc(secret.Header, keyring.Proof))
		}
		r, err := component.NewRouter(opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var f func(ctx context.Context, s string) (string, error)
		if iface == "Echo" {
			var stub struct {
				Echo func(ctx context.Context, s string) (string, error)
			}
			err = r.Bind(ctx, iface, &stub)
			f = stub.Echo
		} else {
			var stub struct {
				Relay func(ctx context.Context, s string) (string, error)
			}
			err = r.Bind(ctx, iface, &stub)
			f = stub.Relay
		}
		if err != nil {
			return err
		}
		_, err = f(ctx, "x")
		return err
	}
	for _, tt := range targets {
		if err := call(tt.sup.Keyring(), tt.iface, tt.url); err != nil {
			t.Errorf("%s with the secret: %v", tt.url, err)
		}
		if err := call(nil, tt.iface, tt.url); service.KindOf(err) != service.KindUnauthenticated {
			t.Errorf("%s without a proof: %v (kind %v), want unauthenticated", tt.url, err, service.KindOf(err))
		}
		if err := call(secret.NewKeyring(secret.NewKey()), tt.iface, tt.url); service.KindOf(err) != service.KindUnauthenticated {
			t.Errorf("%s with another secret: %v (kind %v), want unauthenticated", tt.url, err, service.KindOf(err))
		}
	}
	resp, err := http.Get(echoHTTP)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != secret.Header {
		t.Errorf("plain GET: %s, WWW-Authenticate %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	for _, want := range []string{`"transport":"http"`, `"transport":"peer"`} {
		if !strings.Contains(out.String(), `"msg":"refused a call"`) || !strings.Contains(out.String(), want) {
			t.Errorf("no refusal over %s logged:\n%s", want, out)
		}
	}
	if !strings.Contains(out2.String(), `"transport":"nats"`) {
		t.Errorf("no refusal over NATS logged:\n%s", out2)
	}
	if strings.Contains(out.String()+out2.String(), "1.17") {
		t.Errorf("a proof was logged")
	}
}

// A rotated secret: the children take the new one at once, accept the
// old one for the grace period, then refuse it.
func TestSecretRotation(t *testing.T) {
	s, _ := start(t, `
version: 1
components:
  Echo: {binary: BINARY}
`)
	old := secret.NewKeyring(s.Keyring().Current())
	s.Rotate(500 * time.Millisecond)
	ctx := context.Background()
	oldEcho := bindEcho(t, router(t, s, old, map[string]component.Route{"Echo": {Fail: component.FailFast}}))
	newEcho := bindEcho(t, router(t, s, s.Keyring(), map[string]component.Route{"Echo": {Fail: component.FailFast}}))
	if _, err := oldEcho.Echo(ctx, "x"); err != nil {
		t.Fatalf("the old secret during the grace period: %v", err)
	}
	waitFor(t, 5*time.Second, "the new secret accepted", func() bool {
		_, err := newEcho.Echo(ctx, "x")
		return err == nil
	})
	waitFor(t, 5*time.Second, "the old secret refused after the grace period", func() bool {
		_, err := oldEcho.Echo(ctx, "x")
		return service.KindOf(err) == service.KindUnauthenticated
	})
	if _, err := newEcho.Echo(ctx, "x"); err != nil {
		t.Fatalf("the new secret after the grace period: %v", err)
	}
}
