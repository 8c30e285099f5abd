package hyperpeer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// A service's function learns who calls it from its context: the
// connection's peer credentials on a Unix socket (and its TLS state on
// tls://, the same way).
func TestServiceSeesCallerIdentity(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_PEERCRED is read on Linux only")
	}
	svc := service.New(service.WithName("identity"))
	svc.MustFunc("whoami", func(ctx context.Context) (string, error) {
		c := peer.ConnFromContext(ctx)
		if c == nil {
			return "", service.Errorf(service.KindInternal, "no connection in the context")
		}
		cr := c.PeerCred()
		if cr == nil {
			return "", service.Errorf(service.KindUnauthenticated, "no peer credentials")
		}
		return fmt.Sprintf("uid=%d pid=%d", cr.UID, cr.PID), nil
	})
	ctx := peertest.Timeout(t, 10*time.Second)
	l, err := peer.Listen(ctx, "unix://"+filepath.Join(peertest.ShortTempDir(t), "svc.sock"))
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		peer.Serve(sctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)))
	}()
	defer func() {
		cancel()
		<-done
	}()
	fc, err := peer.Dial(ctx, l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c, err := peer.Client(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Call(ctx, "whoami", nil)
	if want := fmt.Sprintf("uid=%d pid=%d", os.Getuid(), os.Getpid()); err != nil || v != want {
		t.Errorf("whoami: %v, %v; want %q", v, err, want)
	}
}
