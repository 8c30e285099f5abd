package sqlitestore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// A remote stores a dynamic object's content and frames, refuses a fork,
// and answers a subscriber that resumes from its cursor.
func Example() {
	dir, err := os.MkdirTemp("", "store")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// The caller verified these records and extracted their metadata; the
	// addresses here are stand-ins for real hashes.
	alice, object := store.Addr("\x01alice"), store.Addr("\x01object")
	put := func(m store.Meta, body string) error {
		m.Owner, m.Size = alice, int64(len(body))
		_, err := s.Put(ctx, m, bytes.NewReader([]byte(body)))
		return err
	}
	content := store.Meta{Addr: store.Addr("\x01content"), Kind: store.KindContainer}
	frame0 := store.Meta{Addr: store.Addr("\x01frame0"), Kind: store.KindFrame, Object: object, Targets: []store.Addr{content.Addr}}
	frame1 := store.Meta{Addr: store.Addr("\x01frame1"), Kind: store.KindFrame, Object: object, Counter: 1, Prev: frame0.Addr, Targets: []store.Addr{content.Addr}}
	fork := store.Meta{Addr: store.Addr("\x01fork"), Kind: store.KindFrame, Object: object, Counter: 1, Prev: frame0.Addr, Targets: []store.Addr{content.Addr}}
	for _, r := range []struct {
		m    store.Meta
		body string
	}{{content, "ciphertext"}, {frame0, "frame 0"}, {frame1, "frame 1"}, {fork, "another frame 1"}} {
		if err := put(r.m, r.body); errors.Is(err, store.ErrFork) {
			fmt.Println("refused:", err)
		} else if err != nil {
			log.Fatal(err)
		}
	}

	head, err := s.Head(ctx, object)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("head: frame", head.Counter)

	// A subscriber that last saw entry 2 gets what came after.
	changes, err := s.Changes(ctx, store.Query{Objects: []store.Addr{object}, Since: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range changes {
		fmt.Printf("entry %d: %s %d\n", m.Seq, m.Kind, m.Counter)
	}
	// Output:
	// refused: store.Put: frame 1 of 016f626a656374: the store has another frame 1
	// head: frame 1
	// entry 3: frame 1
}
