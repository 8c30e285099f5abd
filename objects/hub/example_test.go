package hub_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/objects/hub"
)

// A daemon without remotes: an account, an object, a push. With remotes
// in the configuration, the same calls sync in the background.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "hub-example")
	defer os.RemoveAll(dir)
	cfg, err := hub.ParseConfig([]byte("store: " + filepath.Join(dir, "store") + "\nsocket: " + filepath.Join(dir, "run", "hub.sock") + "\n"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	h, err := hub.Open(ctx, cfg, hub.WithLogger(quiet()))
	if err != nil {
		panic(err)
	}
	defer h.Close()
	if _, err := h.Create(ctx, "alice", "correct horse battery staple"); err != nil {
		panic(err)
	}
	id, err := h.New(ctx, "example.note", []byte("first"), true, false, "")
	if err != nil {
		panic(err)
	}
	n, err := h.Push(ctx, id, []byte("second"), "")
	if err != nil {
		panic(err)
	}
	state, info, err := h.State(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(n, string(state), info.API, info.Dynamic)
	// Output: 1 second example.note true
}
