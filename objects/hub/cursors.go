package hub

import (
	"errors"
	"os"
	"sync"

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
// durably on each save. Losing a save costs repeated work, never data:
// publishing a record twice stores it once, and a change seen twice is
// recognised.
type cursorFile struct {
	path string
	mu   sync.Mutex // guards all
	all  map[string]cursors
}

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

func (cf *cursorFile) update(url string, f func(*cursors)) error {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	c := cf.all[url]
	f(&c)
	cf.all[url] = c
	data, err := wire.Marshal(cf.all)
	if err != nil {
		return err
	}
	return writeFileSync(cf.path, data)
}
