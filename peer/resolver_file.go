package peer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// maxResolverFile bounds the file a FileResolver reads.
const maxResolverFile = 1 << 20

// FileResolver reads the addresses from a file, one to a line; blank
// lines and what follows a '#' are ignored. It is a [Watcher]: it looks at
// the file every Poll and reports a change when its content differs, so
// the peer follows a file that an operator or a deployment tool rewrites
// (rewrite it whole, by renaming a new file over it, so that no read
// sees half of it). A file that cannot be read is an error, and the peer
// keeps its connections.
type FileResolver struct {
	// Path names the file.
	Path string
	// Poll is how often Watch looks at the file; default 1s.
	Poll time.Duration
}

// Resolve reads the file and returns its addresses.
func (r *FileResolver) Resolve(ctx context.Context) ([]string, error) {
	b, err := r.read()
	if err != nil {
		return nil, err
	}
	var addrs []string
	for line := range strings.Lines(string(b)) {
		line, _, _ = strings.Cut(line, "#")
		addrs = append(addrs, strings.Fields(line)...)
	}
	return addrs, nil
}

// read returns the file's content, up to maxResolverFile bytes.
func (r *FileResolver) read() ([]byte, error) {
	f, err := os.Open(r.Path)
	if err != nil {
		kind := service.KindUnavailable
		if errors.Is(err, fs.ErrNotExist) {
			kind = service.KindNotFound
		}
		return nil, wrapErr(kind, "resolver file: "+err.Error(), err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxResolverFile+1))
	if err != nil {
		return nil, wrapErr(service.KindUnavailable, "resolver file: "+err.Error(), err)
	}
	if len(b) > maxResolverFile {
		return nil, errorf(service.KindTooLarge, "resolver file %s: over %d bytes", r.Path, maxResolverFile)
	}
	return b, nil
}

// Watch polls the file every Poll and sends on the channel when its
// content (or whether it can be read) changed since the last look.
func (r *FileResolver) Watch(ctx context.Context) <-chan struct{} {
	every := r.Poll
	if every <= 0 {
		every = time.Second
	}
	ch := make(chan struct{}, 1)
	look := func() []byte {
		b, err := r.read()
		if err != nil {
			return []byte(fmt.Sprint("error: ", service.KindOf(err)))
		}
		sum := sha256.Sum256(b)
		return sum[:]
	}
	last := look()
	go func() {
		defer close(ch)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := look()
			if bytes.Equal(now, last) {
				continue
			}
			last = now
			select {
			case ch <- struct{}{}:
			default: // a change is reported already
			}
		}
	}()
	return ch
}
