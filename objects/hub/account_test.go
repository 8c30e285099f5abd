package hub_test

import (
	"bytes"
	"testing"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/service"
)

// A second daemon logs in from the remote with the name and password
// alone, and reads what the first one wrote.
func TestLoginFromRemote(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	a := openHub(t, config(t, r))
	fp, err := a.Create(ctx, "alice", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.New(ctx, "test.note", []byte("first"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Push(ctx, id, []byte("second"), "app"); err != nil {
		t.Fatal(err)
	}
	if err := a.Drained(ctx); err != nil {
		t.Fatal(err)
	}

	b := openHub(t, config(t, r))
	if _, err := b.Login(ctx, "alice", "wrong password"); service.KindOf(err) != service.KindPermissionDenied {
		t.Fatalf("login with a wrong password: %v, want permission denied", err)
	}
	got, err := b.Login(ctx, "alice", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if got != fp {
		t.Fatalf("logged in as %s, want %s", got, fp)
	}
	state, info, err := b.State(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state, []byte("second")) || info.Counter != 1 || info.API != "test.note" {
		t.Fatalf("state %q, %+v", state, info)
	}
	devs, err := b.Devices()
	if err != nil || len(devs) != 2 {
		t.Fatalf("devices: %d, %v; want 2", len(devs), err)
	}
}

func TestChangePassword(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	a := openHub(t, config(t, r))
	if _, err := a.Create(ctx, "bob", "old password"); err != nil {
		t.Fatal(err)
	}
	if err := a.ChangePassword(ctx, "not the password", "new password"); service.KindOf(err) != service.KindPermissionDenied {
		t.Fatalf("change with a wrong old password: %v", err)
	}
	if err := a.ChangePassword(ctx, "old password", "new password"); err != nil {
		t.Fatal(err)
	}
	if err := a.Drained(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"old password", false}, {"new password", true}} {
		b := openHub(t, config(t, r))
		_, err := b.Login(ctx, "bob", tc.password)
		if (err == nil) != tc.ok {
			t.Errorf("login with %q: %v, want ok=%v", tc.password, err, tc.ok)
		}
	}
}

func TestOneDaemonPerStore(t *testing.T) {
	cfg := config(t)
	openHub(t, cfg)
	_, err := hub.Open(bg, cfg, hub.WithLogger(quiet()))
	if service.KindOf(err) != service.KindUnavailable {
		t.Fatalf("second Open: %v, want unavailable", err)
	}
	pid, err := hub.LockHolder(cfg.Store)
	if err != nil || pid == 0 {
		t.Fatalf("LockHolder: %d, %v", pid, err)
	}
}
