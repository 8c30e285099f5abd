package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/service"
)

// An App is an application registered with the daemon.
type App struct {
	ID      string         // public, stable id of the application
	Name    string         // what the application calls itself
	Startup record.Address // its startup object; zero when none
}

// Register registers a new application named name and returns its token,
// which the application keeps (a file, a keyring) and presents from then
// on, across restarts of either side. The token is a secret: the daemon
// keeps only its hash.
func (h *Hub) Register(ctx context.Context, name string) (string, App, error) {
	if len(name) > 255 {
		return "", App{}, service.Errorf(service.KindInvalid, "an application name has at most 255 bytes")
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	token := "gt1." + base64.RawURLEncoding.EncodeToString(raw)
	idb := make([]byte, 8)
	rand.Read(idb)
	sum := sha256.Sum256([]byte(token))
	te := tokenEntry{ID: hex.EncodeToString(idb), Hash: sum[:], Name: name}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	if h.state == nil {
		h.mu.Unlock()
		return "", App{}, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	h.state.Tokens = append(h.state.Tokens, te)
	h.mu.Unlock()
	if err := h.commitLocked(ctx, nil); err != nil {
		return "", App{}, err
	}
	return token, App{ID: te.ID, Name: name}, nil
}

// App returns the application whose token is token: KindUnauthenticated
// for a token the daemon did not issue. Tokens are compared in constant
// time.
func (h *Hub) App(token string) (App, error) {
	sum := sha256.Sum256([]byte(token))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		return App{}, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	var found *tokenEntry
	for i := range h.state.Tokens {
		t := &h.state.Tokens[i]
		if subtle.ConstantTimeCompare(t.Hash, sum[:]) == 1 {
			found = t
		}
	}
	if found == nil {
		return App{}, service.Errorf(service.KindUnauthenticated, "unknown application token")
	}
	app := App{ID: found.ID, Name: found.Name}
	app.Startup, _ = addrOf(found.Startup)
	return app, nil
}

// SetStartup makes id the startup object of the application app, handed
// back at each later start ([Hub.App]); the zero address removes it.
func (h *Hub) SetStartup(ctx context.Context, app string, id record.Address) error {
	if !id.IsZero() {
		if _, err := h.obj(id); err != nil {
			return err
		}
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	found := false
	for i := range h.state.Tokens {
		if t := &h.state.Tokens[i]; t.ID == app {
			t.Startup, found = nil, true
			if !id.IsZero() {
				t.Startup = id.Bytes()
			}
		}
	}
	h.mu.Unlock()
	if !found {
		return service.Errorf(service.KindNotFound, "no application %s", app)
	}
	return h.commitLocked(ctx, nil)
}

// HandleShares registers a handler of the shares of objects of API id
// api until release is called: [Event]s of kind [EventShare] for api are
// then reported, and the shares that arrived while no handler was
// registered are returned, oldest first, and no longer kept.
func (h *Hub) HandleShares(ctx context.Context, api string) (pending []Event, release func(), err error) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	if h.state == nil {
		h.mu.Unlock()
		return nil, nil, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	h.handlers[api]++
	kept := h.state.Pending[:0:0]
	for _, p := range h.state.Pending {
		if p.API != api {
			kept = append(kept, p)
			continue
		}
		ev := Event{Kind: EventShare, API: p.API}
		ev.Object, _ = addrOf(p.Object)
		ev.From, _ = addrOf(p.From)
		ev.Owner = ev.From
		pending = append(pending, ev)
	}
	changed := len(kept) != len(h.state.Pending)
	h.state.Pending = kept
	h.mu.Unlock()
	release = func() {
		h.mu.Lock()
		if h.handlers[api]--; h.handlers[api] <= 0 {
			delete(h.handlers, api)
		}
		h.mu.Unlock()
	}
	if changed {
		if err := h.commitLocked(ctx, nil); err != nil {
			release()
			return nil, nil, err
		}
	}
	return pending, release, nil
}

// shareArrived reports a share, or keeps it for a handler to come when
// none is registered for its API id.
func (h *Hub) shareArrived(ctx context.Context, ev Event) {
	h.writeMu.Lock()
	h.mu.Lock()
	handled := h.handlers[ev.API] > 0
	if !handled {
		h.state.Pending = append(h.state.Pending, pendingShare{Object: ev.Object.Bytes(), API: ev.API, From: ev.From.Bytes()})
	}
	h.mu.Unlock()
	var err error
	if !handled {
		err = h.commitLocked(ctx, nil)
	}
	h.writeMu.Unlock()
	if err != nil {
		h.log.Error("a share with no handler could not be kept", "object", ev.Object, "err", err)
	}
	h.emit(ev)
}
