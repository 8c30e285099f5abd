package hub

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// cursors are where each remote's link stands: how far the local change
// log (the outbox) is drained to it, and how far it has read the remote's
// change log.
type cursors struct {
	Drained uint64 `glyph:"drained"` // local sequence number
	Seen    uint64 `glyph:"seen"`    // the remote's sequence number
}

// cursorFile keeps the cursors of every remote in one file, replaced
// durably (temp, sync, rename) at most every saveEvery and at close, not
// at each change: losing the last saves costs repeated work, never data,
// since publishing a record twice stores it once and a change seen twice
// is recognised.
type cursorFile struct {
	path  string
	mu    sync.Mutex // guards all and dirty
	all   map[string]cursors
	dirty bool
}

// saveEvery is how often the cursors are saved while they move.
const saveEvery = 200 * time.Millisecond

func openCursors(path string) (*cursorFile, error) {
	cf := &cursorFile{path: path, all: map[string]cursors{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cf, nil
	}
	if err != nil {
		return nil, err
	}
	if err := wire.UnmarshalConfig(data, &cf.all, accountDecode); err != nil {
		return nil, service.Errorf(service.KindInvalid, "cursor file %s: %v", path, err)
	}
	return cf, nil
}

func (cf *cursorFile) get(url string) cursors {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return cf.all[url]
}

func (cf *cursorFile) update(url string, f func(*cursors)) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	c := cf.all[url]
	f(&c)
	cf.all[url] = c
	cf.dirty = true
}

// save writes the cursors if they moved since the last save.
func (cf *cursorFile) save() error {
	cf.mu.Lock()
	if !cf.dirty {
		cf.mu.Unlock()
		return nil
	}
	data, err := wire.Marshal(cf.all)
	cf.dirty = false
	cf.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFileSync(cf.path, data)
}

// saveLoop saves the cursors every saveEvery until ctx ends, then once
// more.
func (cf *cursorFile) saveLoop(ctx context.Context, log func(error)) {
	t := time.NewTicker(saveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := cf.save(); err != nil {
				log(err)
			}
			return
		case <-t.C:
			if err := cf.save(); err != nil {
				log(err)
			}
		}
	}
}
