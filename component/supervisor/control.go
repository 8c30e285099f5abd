package supervisor

import (
	"context"
	"fmt"
	"iter"
	"net"
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// The control API is a glyph service on the Unix socket control.sock in
// the run directory (a directory only its owner may enter), served over
// peers to connections from the supervisor's own user only (checked with
// SO_PEERCRED):
//
//	status()                → [Status]
//	restart(name)           → null
//	logs(name, follow)      → a stream of LogLine (the kept lines, then new ones while follow)
//	reload()                → null: read the deployment file again and apply it
//	rotate(grace)           → null: hand out a new secret
type control struct {
	nl     net.Listener
	cancel context.CancelFunc
	done   chan struct{}
}

// ControlService returns the control API of s as a service.
func (s *Supervisor) ControlService() *service.Service {
	svc := service.New(service.WithLogger(s.logger))
	svc.MustFunc("status", s.Status, service.Safe())
	svc.MustFunc("restart", s.Restart, service.Args("name"))
	svc.MustFunc("logs", func(ctx context.Context, name string, follow bool) iter.Seq[LogLine] {
		past, next, stop := s.Logs(name)
		return func(yield func(LogLine) bool) {
			defer stop()
			for _, l := range past {
				if !yield(l) {
					return
				}
			}
			if !follow {
				return
			}
			for {
				select {
				case <-ctx.Done():
					return
				case l := <-next:
					if !yield(l) {
						return
					}
				}
			}
		}
	}, service.Args("name", "follow"), service.Default("name", ""), service.Default("follow", false))
	svc.MustFunc("reload", s.ReloadFile)
	svc.MustFunc("rotate", func(grace string) error {
		d, err := parseDuration(grace)
		if err != nil {
			return service.Errorf(service.KindInvalid, "grace: %v", err)
		}
		s.Rotate(d)
		return nil
	}, service.Args("grace"), service.Default("grace", "1m"))
	return svc
}

// serveControl serves the control API on the run directory's socket.
func (s *Supervisor) serveControl() (*control, error) {
	path := filepath.Join(s.cfg.runDir, ControlSocket)
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("supervisor: another supervisor serves %s", path)
	}
	os.Remove(path)
	nl, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("supervisor: control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		nl.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &control{nl: nl, cancel: cancel, done: make(chan struct{})}
	l := peer.NewListener(&ownerListener{Listener: nl, uid: os.Getuid(), logger: s.logger})
	go func() {
		defer close(c.done)
		peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(s.ControlService())), peer.WithLogger(s.logger))
	}()
	return c, nil
}

func (c *control) close() {
	c.cancel()
	c.nl.Close() // Accept has no deadline to end it
	<-c.done
}

// ownerListener accepts connections from processes of one user only.
type ownerListener struct {
	net.Listener
	uid    int
	logger interface {
		Warn(msg string, args ...any)
	}
}

func (l *ownerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		l.logger.Warn("refused a control connection from another user", "uid", uid, "err", err)
		c.Close()
	}
}
