package remote_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/service"
)

// clock is a settable clock for remote.WithClock.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// loginAPI is the remote's login, called by hand.
type loginAPI struct {
	Challenge func(context.Context) (remote.Challenge, error)
	Login     func(context.Context, client.Named) (remote.Session, error)
	Publish   func(context.Context, string, [][]byte) ([]remote.Published, error)
}

func bindLogin(t *testing.T, url string) *loginAPI {
	t.Helper()
	gc := client.New()
	t.Cleanup(func() { gc.Close() })
	var api loginAPI
	if err := client.Bind(bg, gc, url, &api); err != nil {
		t.Fatal(err)
	}
	return &api
}

func TestLogin(t *testing.T) {
	clk := &clock{now: time.Now()}
	r := startRemote(t, nil, nil, remote.WithClock(clk.Now), remote.WithSessionTTL(time.Hour))
	api := bindLogin(t, r.peerURL)
	alice, bob := newKeys(t), newKeys(t)
	devPub, devKey, _ := ed25519.GenerateKey(nil)
	dev, err := alice.AuthoriseDevice(devPub, "phone", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	devSigner, err := record.DeviceSigner(dev, devKey)
	if err != nil {
		t.Fatal(err)
	}

	// prove answers a fresh challenge as k signing with s, for server.
	prove := func(id *record.Identity, s *record.Signer, server string) client.Named {
		ch, err := api.Challenge(bg)
		if err != nil {
			t.Fatal(err)
		}
		if server == "" {
			server = ch.Server
		}
		proof, err := s.SignProof(remote.LoginPurpose, remote.LoginMessage(server, ch.Nonce, id.Fingerprint()))
		if err != nil {
			t.Fatal(err)
		}
		args := client.Named{"identity": id.Bytes(), "nonce": ch.Nonce, "proof": proof}
		if d := s.Device(); d != nil {
			args["device"] = d.Bytes()
		}
		return args
	}

	tests := []struct {
		name   string
		args   func() client.Named
		reason remote.Reason
	}{
		{"identity key", func() client.Named { return prove(alice.Identity, alice.Signer(), "") }, ""},
		{"device key", func() client.Named { return prove(alice.Identity, devSigner, "") }, ""},
		{"another's key", func() client.Named { return prove(alice.Identity, bob.Signer(), "") }, remote.ReasonUnauthorised},
		{"device key without its record", func() client.Named {
			a := prove(alice.Identity, devSigner, "")
			delete(a, "device")
			return a
		}, remote.ReasonUnauthorised},
		{"proof for another server", func() client.Named { return prove(alice.Identity, alice.Signer(), "elsewhere:443") }, remote.ReasonUnauthorised},
		{"nonce used twice", func() client.Named {
			a := prove(alice.Identity, alice.Signer(), "")
			if _, err := api.Login(bg, a); err != nil {
				t.Fatal(err)
			}
			return a
		}, remote.ReasonChallenge},
		{"nonce never issued", func() client.Named {
			a := prove(alice.Identity, alice.Signer(), "")
			a["nonce"] = make([]byte, remote.NonceSize)
			return a
		}, remote.ReasonChallenge},
		{"challenge expired", func() client.Named {
			a := prove(alice.Identity, alice.Signer(), "")
			clk.advance(remote.DefaultChallengeTTL)
			return a
		}, remote.ReasonChallenge},
		{"tampered identity", func() client.Named {
			a := prove(alice.Identity, alice.Signer(), "")
			id := append([]byte(nil), alice.Identity.Bytes()...)
			id[bytes.Index(id, []byte("u3:sig;b64:"))+20] ^= 1
			a["identity"] = id
			return a
		}, remote.ReasonTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := api.Login(bg, tt.args())
			if got := remote.ReasonOf(err); got != tt.reason {
				t.Fatalf("Login = %v, reason %q; want %q", err, got, tt.reason)
			}
			if err == nil && (s.Token == "" || string(s.Identity) != string(alice.Fingerprint().Bytes())) {
				t.Fatalf("Login = %+v", s)
			}
		})
	}
}

// A session's token is accepted until it expires, from this server only;
// the Go client logs in again by itself when its session ends.
func TestSession(t *testing.T) {
	clk := &clock{now: time.Now()}
	r := startRemote(t, nil, nil, remote.WithClock(clk.Now), remote.WithSessionTTL(time.Hour))
	other := startRemote(t, nil, nil)
	alice := newKeys(t)
	c := dial(t, r.peerURL, alice)
	tok := c.Session().Token
	api := bindLogin(t, r.peerURL)
	_, recs := newObject(t, alice, "v0")

	forged := []byte(tok)
	forged[len(forged)-1] ^= 1
	otherTok := dial(t, other.peerURL, alice).Session().Token
	for name, tok := range map[string]string{"forged": string(forged), "another server's": otherTok, "none": "", "garbage": "s1.%%%"} {
		_, err := api.Publish(bg, tok, recs)
		if remote.ReasonOf(err) != remote.ReasonUnauthenticated || service.KindOf(err) != service.KindUnauthenticated {
			t.Errorf("publish with a %s token: %v, want unauthenticated", name, err)
		}
	}
	if _, err := api.Publish(bg, tok, recs); err != nil {
		t.Fatalf("publish with the session's token: %v", err)
	}
	clk.advance(time.Hour)
	_, err := api.Publish(bg, tok, recs)
	if remote.ReasonOf(err) != remote.ReasonUnauthenticated {
		t.Fatalf("publish with an expired token: %v, want unauthenticated", err)
	}
	// The client's session expired too (by the server's clock): it logs in
	// again and the call goes through.
	if _, err := c.Publish(bg, recs...); err != nil {
		t.Fatalf("Publish after the session expired: %v", err)
	}
	if c.Session().Token == tok {
		t.Fatal("the client kept its expired session")
	}
}

// A client checks the server's name before it proves anything.
func TestServerName(t *testing.T) {
	r := startRemote(t, nil, nil)
	alice := newKeys(t)
	if _, err := remote.Dial(bg, r.peerURL, alice.Identity, alice.Signer(), remote.WithServerName("remote.example:443")); err == nil {
		t.Fatal("Dial logged in to a server of another name")
	}
}

// A device of an identity logs in and publishes for it; its session ends
// with the device's authorisation.
func TestDevicePublish(t *testing.T) {
	r := startRemote(t, nil, nil)
	alice := newKeys(t)
	devPub, devKey, _ := ed25519.GenerateKey(nil)
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	dev, err := alice.AuthoriseDevice(devPub, "phone", until)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := record.DeviceSigner(dev, devKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.Dial(bg, r.httpURL, alice.Identity, signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.Session(); !s.Expires.Equal(until) {
		t.Fatalf("the device's session ends at %v, want %v", s.Expires, until)
	}
	key := record.NewEpochKey(0)
	cont, addr := seal(t, key, "from the phone")
	f, err := record.NewDynamic(signer, addr, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mustPublish(t, c, cont, f.Bytes())
	if got, err := c.Get(bg, f.ID); err != nil || record.Sum(got) != f.Hash() {
		t.Fatalf("Get of the device's object: %v", err)
	}
	// Changes answers what is stored now, over HTTP too.
	chs, err := c.Changes(bg, remote.Subscription{Objects: []record.Address{f.ID}})
	if err != nil || len(chs) != 1 || chs[0].Kind != "frame" {
		t.Fatalf("Changes = %+v, %v", chs, err)
	}
}
