package hub

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// Create makes a new account named name on this daemon: a new identity,
// a key for this device, and the account's own object, which holds the
// identity's keys and the list of the account's objects and is shared to
// the login identity that name and password derive (Argon2id). The
// object reaches the remotes through the outbox; from then on
// [Hub.Login] on another daemon, or after a reinstall, needs only the
// name and the password.
func (h *Hub) Create(ctx context.Context, name, password string) (record.Address, error) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	if h.hasAccount() {
		return record.Address{}, service.Errorf(service.KindConflict, "this daemon has an account already")
	}
	login, err := loginKeys(name, password)
	if err != nil {
		return record.Address{}, err
	}
	keys, err := record.NewKeys(time.Now())
	if err != nil {
		return record.Address{}, err
	}
	la := &localAccount{Name: name, Seed: keys.Seed(), Created: keys.Identity.Created}
	dev, signer, err := newDevice(keys, la)
	if err != nil {
		return record.Address{}, err
	}
	state := &accountState{Name: name, Seed: la.Seed, Created: la.Created, Login: login.Fingerprint().Bytes(), Devices: [][]byte{dev.Bytes()}}
	key := record.NewEpochKey(0)
	// The account object's id is its first frame's, which the share to the
	// login identity names; its first state lists the share, so the
	// object starts with two frames.
	first, err := seal(nil, key)
	if err != nil {
		return record.Address{}, err
	}
	f, err := record.NewDynamic(signer, first.addr, time.Time{})
	if err != nil {
		return record.Address{}, err
	}
	sh, err := record.NewShare(signer, login.Identity, &record.Grant{Target: f.ID, API: AccountAPI, Epoch: key.Epoch, Key: key.Key}, time.Now())
	if err != nil {
		return record.Address{}, err
	}
	state.LoginShares = [][]byte{sh.Address().Bytes()}
	la.State, la.StateKeys = f.ID.Bytes(), []keyEntry{fromKey(key)}
	so := &object{id: f.ID, loaded: true, head: f, entry: &objectEntry{ID: f.ID.Bytes(), Dynamic: true, API: AccountAPI, Owner: keys.Fingerprint().Bytes(), Keys: la.StateKeys}}
	h.adopt(la, keys, signer, state, so)
	if err := h.commitLocked(ctx, []store.Item{first.item(keys.Fingerprint()), frameItem(f), shareItem(sh)}); err != nil {
		h.forget()
		return record.Address{}, err
	}
	if err := h.writeAccountFile(la); err != nil {
		h.forget()
		return record.Address{}, err
	}
	h.log.Info("account created", "name", name, "identity", keys.Fingerprint())
	h.startLinks()
	return keys.Fingerprint(), nil
}

// Login makes this daemon, which has no account yet, a device of the
// account named name: it finds the account's object on the configured
// remotes through the login identity that name and password derive,
// opens it, authorises a key for this device and adds it to the account.
// A wrong password or name finds nothing: KindPermissionDenied.
func (h *Hub) Login(ctx context.Context, name, password string) (record.Address, error) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	if h.hasAccount() {
		return record.Address{}, service.Errorf(service.KindConflict, "this daemon has an account already")
	}
	if len(h.links) == 0 {
		return record.Address{}, service.Errorf(service.KindUnavailable, "no remotes configured: logging in reads the account from a remote")
	}
	login, err := loginKeys(name, password)
	if err != nil {
		return record.Address{}, err
	}
	var errs []error
	for _, l := range h.links {
		fp, err := h.loginFrom(ctx, l, name, login)
		if err == nil {
			return fp, nil
		}
		errs = append(errs, err)
	}
	return record.Address{}, errors.Join(errs...)
}

// loginFrom logs in to the account through the remote of l.
func (h *Hub) loginFrom(ctx context.Context, l *link, name string, login *record.Keys) (record.Address, error) {
	c, err := remote.Dial(ctx, l.cfg.URL, login.Identity, login.Signer(), l.clientOptions()...)
	if err != nil {
		return record.Address{}, err
	}
	defer c.Close()
	changes, err := c.Changes(ctx, remote.Subscription{Mailbox: true})
	if err != nil {
		return record.Address{}, err
	}
	for i := len(changes) - 1; i >= 0; i-- {
		ch := changes[i]
		if ch.Kind != string(record.KindShare) {
			continue
		}
		fp, err := h.openAccount(ctx, c, ch, name, login)
		if err == nil {
			return fp, nil
		}
		h.log.Debug("login: a share does not open the account", "err", err)
	}
	return record.Address{}, service.Errorf(service.KindPermissionDenied, "no account %q with this password on %s", name, l.cfg.URL)
}

// openAccount opens the account object that the share of ch grants to
// the login identity, and adopts it with a new device key.
func (h *Hub) openAccount(ctx context.Context, c *remote.Client, ch remote.Change, name string, login *record.Keys) (record.Address, error) {
	data := ch.Record
	if len(data) == 0 {
		a, err := addrOf(ch.Address)
		if err != nil {
			return record.Address{}, err
		}
		if data, err = c.Get(ctx, a); err != nil {
			return record.Address{}, err
		}
	}
	sh, err := record.ParseShare(data)
	if err != nil {
		return record.Address{}, err
	}
	sender, err := fetchIdentity(ctx, c, sh.Owner)
	if err != nil {
		return record.Address{}, err
	}
	g, err := login.OpenShare(sh, sender, time.Now())
	if err != nil {
		return record.Address{}, err
	}
	if g.API != AccountAPI {
		return record.Address{}, service.Errorf(service.KindInvalid, "share for %q, not an account", g.API)
	}
	fdata, err := c.Get(ctx, g.Target)
	if err != nil {
		return record.Address{}, err
	}
	f, err := record.ParseFrame(fdata)
	if err != nil {
		return record.Address{}, err
	}
	if f.ID != g.Target || f.Owner != sender.Fingerprint() {
		return record.Address{}, service.Errorf(service.KindPermissionDenied, "the account object is not the sender's")
	}
	if err := f.Check(sender, time.Now()); err != nil {
		return record.Address{}, err
	}
	cdata, err := readContainer(ctx, c, f.Target)
	if err != nil {
		return record.Address{}, err
	}
	var buf bytes.Buffer
	if _, err := record.Open(&limitWriter{w: &buf, n: MaxState}, bytes.NewReader(cdata), f.Target, g.EpochKey()); err != nil {
		return record.Address{}, err
	}
	state, err := decodeAccountState(buf.Bytes())
	if err != nil {
		return record.Address{}, err
	}
	keys, err := record.KeysFromSeed(state.Seed, state.Created)
	if err != nil {
		return record.Address{}, err
	}
	if keys.Fingerprint() != sender.Fingerprint() {
		return record.Address{}, service.Errorf(service.KindPermissionDenied, "the account object holds another identity's keys")
	}
	la := &localAccount{Name: name, Seed: state.Seed, Created: state.Created, State: f.ID.Bytes(), StateKeys: []keyEntry{fromKey(g.EpochKey())}}
	dev, signer, err := newDevice(keys, la)
	if err != nil {
		return record.Address{}, err
	}
	state.Devices = append(state.Devices, dev.Bytes())
	me := keys.Fingerprint()
	so := &object{id: f.ID, loaded: true, head: f, entry: &objectEntry{ID: f.ID.Bytes(), Dynamic: true, API: AccountAPI, Owner: me.Bytes(), Keys: la.StateKeys}}
	h.adopt(la, keys, signer, state, so)
	items := []store.Item{{Meta: store.Meta{Addr: f.Target.Bytes(), Kind: store.KindContainer, Owner: me.Bytes(), Size: int64(len(cdata))}, Body: bytes.NewReader(cdata)}, frameItem(f)}
	if err := h.commitLocked(ctx, items); err != nil {
		h.forget()
		return record.Address{}, err
	}
	if err := h.writeAccountFile(la); err != nil {
		h.forget()
		return record.Address{}, err
	}
	h.log.Info("logged in", "name", name, "identity", me, "device", dev.Name)
	h.startLinks()
	return me, nil
}

// ChangePassword changes the account's password: the account object
// moves to a new epoch whose key only the new login identity gets, and
// the share to the old one is deleted.
func (h *Hub) ChangePassword(ctx context.Context, oldPassword, newPassword string) error {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	la, state, so, signer := h.acct, h.state, h.stateObj, h.signer
	h.mu.Unlock()
	if la == nil {
		return service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	old, err := loginKeys(la.Name, oldPassword)
	if err != nil {
		return err
	}
	if !bytes.Equal(old.Fingerprint().Bytes(), state.Login) {
		return service.Errorf(service.KindPermissionDenied, "the old password is wrong")
	}
	next, err := loginKeys(la.Name, newPassword)
	if err != nil {
		return err
	}
	keys := toKeys(so.entry.Keys)
	key := keys[len(keys)-1].Next()
	sh, err := record.NewShare(signer, next.Identity, &record.Grant{Target: so.id, API: AccountAPI, Epoch: key.Epoch, Key: key.Key}, time.Now())
	if err != nil {
		return err
	}
	items := []store.Item{shareItem(sh)}
	if n := len(state.LoginShares); n > 0 {
		oldShare, err := addrOf(state.LoginShares[n-1])
		if err != nil {
			return err
		}
		d, err := record.NewBinding(signer, record.KindDebinding, oldShare, time.Now())
		if err != nil {
			return err
		}
		items = append(items, bindingItem(d, state.Login))
	}
	nla := *la
	nla.StateKeys = append(append([]keyEntry(nil), la.StateKeys...), fromKey(key))
	h.mu.Lock()
	so.entry.Keys = nla.StateKeys
	state.Login = next.Fingerprint().Bytes()
	state.LoginShares = append(state.LoginShares, sh.Address().Bytes())
	h.acct = &nla
	h.notifyChangedLocked()
	h.mu.Unlock()
	if err := h.commitLocked(ctx, items); err != nil {
		return err
	}
	return h.writeAccountFile(&nla)
}

// Devices returns the device records of the account, oldest first: one
// for each daemon that created the account or logged in to it.
func (h *Hub) Devices() ([]*record.Device, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		return nil, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	var out []*record.Device
	for _, b := range h.state.Devices {
		d, err := record.ParseDevice(b)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// newDevice makes a key for this device, authorised by keys, into la.
func newDevice(keys *record.Keys, la *localAccount) (*record.Device, *record.Signer, error) {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	priv := ed25519.NewKeyFromSeed(seed)
	host, _ := os.Hostname()
	if host == "" {
		host = "device"
	}
	dev, err := keys.AuthoriseDevice(priv.Public().(ed25519.PublicKey), host, time.Time{})
	if err != nil {
		return nil, nil, err
	}
	la.DeviceSeed, la.Device = seed, dev.Bytes()
	s, err := record.DeviceSigner(dev, priv)
	return dev, s, err
}

func (h *Hub) hasAccount() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acct != nil
}

// forget drops an account that could not be stored.
func (h *Hub) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acct, h.keys, h.signer, h.state, h.stateObj = nil, nil, nil, nil, nil
	h.objs = map[record.Address]*object{}
}

// fetchIdentity gets and checks the identity fp from a remote.
func fetchIdentity(ctx context.Context, c *remote.Client, fp record.Address) (*record.Identity, error) {
	data, err := c.Get(ctx, fp)
	if err != nil {
		return nil, err
	}
	id, err := record.ParseIdentity(data)
	if err != nil {
		return nil, err
	}
	if id.Fingerprint() != fp {
		return nil, service.Errorf(service.KindInvalid, "the remote answered another identity than %s", fp)
	}
	return id, nil
}

// readContainer reads a container from a remote, up to a bound.
func readContainer(ctx context.Context, c *remote.Client, addr record.Address) ([]byte, error) {
	r, err := c.GetContainer(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 2*MaxState))
	if err != nil {
		return nil, err
	}
	if record.Sum(data) != addr {
		return nil, service.Errorf(service.KindInvalid, "container %s: the remote's bytes do not match", addr)
	}
	return data, nil
}
