package link_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/link"
)

// An application makes a typed object through its daemon and pushes a
// new state. (The daemon runs in this process here; usually it is
// glyph hub start, and link.Dial finds its socket by its configuration.)
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "link-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := &hub.Config{Store: filepath.Join(dir, "store"), Socket: filepath.Join(dir, "run", "hub.sock"), LogLevel: "error"}
	h, err := hub.Open(ctx, cfg, hub.WithLogger(quiet()))
	if err != nil {
		panic(err)
	}
	defer h.Close()
	if _, err := h.Create(ctx, "alice", "correct horse battery staple"); err != nil {
		panic(err)
	}
	ready := make(chan struct{})
	go h.Serve(ctx, func() { close(ready) })
	<-ready

	type Settings struct {
		Interval int    `json:"interval"`
		Unit     string `json:"unit"`
	}
	l, err := link.Dial(ctx, link.WithSocket(cfg.Socket), link.WithName("example"))
	if err != nil {
		panic(err)
	}
	defer l.Close()
	s, err := link.New(ctx, l, link.JSON[Settings](), "example.settings", Settings{Interval: 5, Unit: "s"})
	if err != nil {
		panic(err)
	}
	if err := s.Push(ctx, Settings{Interval: 10, Unit: "s"}); err != nil {
		panic(err)
	}
	again, err := link.Get(ctx, l, link.JSON[Settings](), s.ID())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v at frame %d\n", again.State(), again.Info().Counter)
	// Output: {Interval:10 Unit:s} at frame 1
}
