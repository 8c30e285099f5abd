package hub

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// ErrNoAccount is the error of operations that need an account on a
// daemon that has none yet ([Hub.Create] or [Hub.Login] first).
var ErrNoAccount = errors.New("no account: create one or log in")

// An Option changes how [Open] opens a daemon.
type Option func(*Hub)

// WithLogger logs to l instead of a text handler on standard error at the
// configuration's level.
func WithLogger(l *slog.Logger) Option { return func(h *Hub) { h.log = l } }

// WithBackoff sets the first and the longest wait between attempts to
// reach a remote that fails (defaults 100 ms and one minute); each
// failure doubles the wait, with jitter.
func WithBackoff(first, max time.Duration) Option {
	return func(h *Hub) { h.backoffMin, h.backoffMax = first, max }
}

// WithGC sweeps the store every d (default an hour; 0: never) once every
// remote has every record, so that older frames and their content, and
// deleted objects, do not pile up; storeOpts, such as
// [store.WithGrace], are given to the store.
func WithGC(d time.Duration, storeOpts ...store.Option) Option {
	return func(h *Hub) { h.gcEvery, h.storeOpts = d, storeOpts }
}

// Hub is the daemon: one account's local store, its outbox and its links
// to remotes. Every write lands in the store, whose change log is the
// durable outbox, before it returns; links to the configured remotes
// drain the outbox and follow the remotes' changes in the background.
// It is safe for concurrent use.
type Hub struct {
	cfg        *Config
	log        *slog.Logger
	dir        string
	backoffMin time.Duration
	backoffMax time.Duration
	gcEvery    time.Duration
	storeOpts  []store.Option
	lock       *os.File
	st         *sqlitestore.Store
	cursors    *cursorFile
	ctx        context.Context // ends at Close
	stop       context.CancelFunc
	wg         sync.WaitGroup
	links      []*link
	written    recentSet     // frames this daemon wrote lately
	recent     recentRecords // records of the pushes stored lately, for the outbox
	saved      chan struct{} // closed once the cursors' last save is done

	// writeMu serialises changes of the account object, so that its frames
	// follow each other.
	writeMu sync.Mutex

	mu       sync.Mutex // guards everything below
	acct     *localAccount
	keys     *record.Keys
	signer   *record.Signer
	state    *accountState
	stateObj *object
	objs     map[record.Address]*object
	idents   map[record.Address]*record.Identity
	watchers map[int]func(Event)
	nextW    int
	handlers map[string]int  // share handlers registered, by API id
	closers  []func() error  // what Close closes besides (browser peers)
	reported map[string]bool // shares whose outcome was reported, by address
	changed  chan struct{}   // closed and replaced when the set of objects changes
}

// Open opens the daemon of cfg: it takes the store directory's lock (one
// daemon per store), opens the store and the account found there, and
// starts syncing with the configured remotes. It does not read every
// record: start-up costs the same with a hundred records or a million.
func Open(ctx context.Context, cfg *Config, opts ...Option) (*Hub, error) {
	h := &Hub{
		cfg: cfg, dir: cfg.Store, backoffMin: 100 * time.Millisecond, backoffMax: time.Minute, gcEvery: time.Hour,
		objs: map[record.Address]*object{}, idents: map[record.Address]*record.Identity{},
		watchers: map[int]func(Event){}, changed: make(chan struct{}), handlers: map[string]int{},
	}
	for _, o := range opts {
		o(h)
	}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.Level()}))
	}
	lock, err := lockStore(h.dir)
	if err != nil {
		return nil, err
	}
	h.lock = lock
	if h.st, err = sqlitestore.Open(ctx, filepath.Join(h.dir, "records"), h.storeOpts...); err != nil {
		lock.Close()
		return nil, err
	}
	h.cursors, err = openCursors(filepath.Join(h.dir, "cursors"))
	if err == nil {
		err = h.loadAccount(ctx)
	}
	if err != nil {
		h.st.Close()
		lock.Close()
		return nil, err
	}
	h.ctx, h.stop = context.WithCancel(context.Background())
	h.saved = make(chan struct{})
	go func() {
		defer close(h.saved)
		h.cursors.saveLoop(h.ctx, func(err error) { h.log.Error("cursors not saved", "err", err) })
	}()
	for _, rc := range cfg.Remotes {
		h.links = append(h.links, newLink(h, rc))
	}
	if h.gcEvery > 0 {
		h.wg.Add(1)
		go h.gcLoop()
	}
	if h.acct != nil {
		h.startLinks()
	}
	h.log.Info("hub ready", "store", h.dir, "remotes", len(h.links), "account", h.whoami())
	return h, nil
}

// Close stops syncing and closes the store; it releases the lock last.
func (h *Hub) Close() error {
	h.stop()
	h.mu.Lock()
	closers := h.closers
	h.mu.Unlock()
	for _, c := range closers {
		c()
	}
	h.wg.Wait()
	<-h.saved
	for _, l := range h.links {
		l.close()
	}
	err := h.st.Close()
	h.lock.Close()
	return err
}

// Config returns the configuration the daemon runs with.
func (h *Hub) Config() *Config { return h.cfg }

// Logger returns the daemon's logger.
func (h *Hub) Logger() *slog.Logger { return h.log }

// Whoami returns the fingerprint of the account's identity, the address
// others share with; [ErrNoAccount] before an account exists.
func (h *Hub) Whoami() (record.Address, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.keys == nil {
		return record.Address{}, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	return h.keys.Fingerprint(), nil
}

func (h *Hub) whoami() string {
	fp, err := h.Whoami()
	if err != nil {
		return "none"
	}
	return fp.String()
}

// accountPath is the local account file.
func (h *Hub) accountPath() string { return filepath.Join(h.dir, "account") }

// loadAccount reads the local account file, if any, and the account
// object from the store.
func (h *Hub) loadAccount(ctx context.Context) error {
	data, err := os.ReadFile(h.accountPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var la localAccount
	if err := wire.UnmarshalConfig(data, &la, accountDecode); err != nil {
		return service.Errorf(service.KindInvalid, "account file %s: %v", h.accountPath(), err)
	}
	keys, err := la.keys()
	if err != nil {
		return err
	}
	signer, _, err := la.signer()
	if err != nil {
		return err
	}
	id, err := addrOf(la.State)
	if err != nil {
		return err
	}
	so := &object{id: id, entry: &objectEntry{ID: la.State, Dynamic: true, API: AccountAPI, Owner: keys.Fingerprint().Bytes(), Keys: la.StateKeys}}
	h.idents[keys.Fingerprint()] = keys.Identity
	if err := h.loadHead(ctx, so); err != nil {
		return err
	}
	content, err := h.content(ctx, so)
	if err != nil {
		return err
	}
	state, err := decodeAccountState(content)
	if err != nil {
		return err
	}
	h.adopt(&la, keys, signer, state, so)
	return nil
}

// adopt makes la, with its account object so and its content state, the
// daemon's account.
func (h *Hub) adopt(la *localAccount, keys *record.Keys, signer *record.Signer, state *accountState, so *object) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acct, h.keys, h.signer, h.state, h.stateObj = la, keys, signer, state, so
	h.idents[keys.Fingerprint()] = keys.Identity
	h.objs = map[record.Address]*object{}
	for _, e := range state.Objects {
		id, err := addrOf(e.ID)
		if err != nil {
			h.log.Warn("account object lists a bad id", "err", err)
			continue
		}
		h.objs[id] = &object{id: id, entry: e}
	}
	h.notifyChangedLocked()
}

// writeAccountFile writes la to the account file: temp, sync, rename.
func (h *Hub) writeAccountFile(la *localAccount) error {
	data, err := wire.Marshal(la)
	if err != nil {
		return err
	}
	return writeFileSync(h.accountPath(), data)
}

// writeFileSync replaces path with data durably: a temporary file in the
// same directory, synced, renamed over path, and the directory synced.
func writeFileSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Watch calls f with every [Event] from now until the returned function is
// called. f runs on the daemon's goroutines: it must not block for long.
func (h *Hub) Watch(f func(Event)) (cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.nextW
	h.nextW++
	h.watchers[n] = f
	return func() {
		h.mu.Lock()
		delete(h.watchers, n)
		h.mu.Unlock()
	}
}

func (h *Hub) emit(ev Event) {
	h.mu.Lock()
	fs := make([]func(Event), 0, len(h.watchers))
	for _, f := range h.watchers {
		fs = append(fs, f)
	}
	h.mu.Unlock()
	for _, f := range fs {
		f(ev)
	}
}

// notifyChangedLocked wakes the links: the set of objects changed.
func (h *Hub) notifyChangedLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// objectsChanged returns a channel closed at the next change of the set
// of objects.
func (h *Hub) objectsChanged() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// Store returns the daemon's store (read-only use: benchmarks, tools).
func (h *Hub) Store() store.Store { return h.st }

func addrOf(b []byte) (record.Address, error) {
	var a record.Address
	if len(b) != record.AddressSize || b[0] != record.TagSHA256 {
		return a, service.Errorf(service.KindInvalid, "not an address: %d bytes", len(b))
	}
	copy(a[:], b)
	return a, nil
}

func sameAddr(a []byte, b record.Address) bool { return bytes.Equal(a, b[:]) }

// gcLoop sweeps the store every gcEvery, when no remote lags behind: a
// record the outbox has not published yet is never collected (the store
// also keeps every record for its grace period).
func (h *Hub) gcLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.gcEvery)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		cur, err := h.st.Cursor(h.ctx)
		if err != nil {
			continue
		}
		behind := false
		for _, l := range h.links {
			behind = behind || h.cursors.get(l.cfg.URL).Drained < cur
		}
		if behind {
			h.log.Debug("gc: postponed while a remote lags")
			continue
		}
		stats, err := h.st.GC(h.ctx)
		if err != nil {
			if h.ctx.Err() == nil {
				h.log.Warn("gc failed", "err", err)
			}
			continue
		}
		if stats.Records > 0 {
			h.log.Info("gc", "records", stats.Records, "bytes", stats.Bytes)
		}
	}
}
