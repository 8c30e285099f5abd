package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// MaxMessage bounds one message between an application and the daemon.
const MaxMessage = MaxState + 1<<20

// Serve serves the daemon's service ([Hub.Service]) to applications
// until ctx ends: over peer connections on the configuration's Unix
// socket, in a directory it makes (or finds) with mode 0700, where it
// accepts only processes of the daemon's own user (SO_PEERCRED); over
// HTTP on a second Unix socket (the configuration's http_socket), with
// the same check; and, when the configuration enables it, over a
// WebSocket on a loopback address, for browser pages of the allowed
// origins that present an application token. ready, when not nil, is
// called once all listen.
func (h *Hub) Serve(ctx context.Context, ready func()) error {
	ln, err := listenSocket(h.cfg.Socket)
	if err != nil {
		return err
	}
	defer ln.Close()
	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(h.Service())), peer.WithMaxFrameSize(MaxMessage))
	defer p.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	httpPath := h.cfg.HTTPSocket
	if httpPath == "" {
		httpPath = filepath.Join(filepath.Dir(h.cfg.Socket), "hub-http.sock")
	}
	hln, err := listenSocket(httpPath)
	if err != nil {
		return err
	}
	defer hln.Close()
	uhs := hyperhttp.NewServer("", hyperhttp.NewHandler(h.Service(), hyperhttp.WithLogger(h.log), hyperhttp.WithMaxRequestBytes(MaxMessage)))
	wg.Add(1)
	go func() {
		defer wg.Done()
		uhs.Serve(&ownerListener{UnixListener: hln, h: h})
	}()
	var hs *http.Server
	if w := h.cfg.WebSocket; w != nil {
		wln, err := net.Listen("tcp", w.Listen)
		if err != nil {
			return service.Errorf(service.KindUnavailable, "websocket: %v", err)
		}
		hs = &http.Server{Handler: h.WebSocketHandler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs.Serve(wln)
		}()
		h.log.Info("serving browsers", "listen", wln.Addr().String(), "origins", w.Origins)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
		uhs.Close()
		if hs != nil {
			hs.Close()
		}
	}()
	h.log.Info("serving applications", "socket", h.cfg.Socket)
	if ready != nil {
		ready()
	}
	uid := os.Getuid()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			h.log.Warn("accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		puid, pid, err := peerCred(conn)
		if err != nil || puid != uid {
			h.log.Warn("refused a process of another user", "uid", puid, "pid", pid, "err", err)
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			hctx, hcancel := context.WithTimeout(ctx, 10*time.Second)
			defer hcancel()
			if _, err := p.AcceptConn(hctx, peer.NewStreamConn(conn, MaxMessage)); err != nil {
				h.log.Debug("application handshake failed", "err", err)
			}
		}()
	}
}

// ownerListener accepts only connections of processes of the daemon's
// own user.
type ownerListener struct {
	*net.UnixListener
	h *Hub
}

func (l *ownerListener) Accept() (net.Conn, error) {
	uid := os.Getuid()
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return nil, err
		}
		puid, pid, err := peerCred(c)
		if err == nil && puid == uid {
			return c, nil
		}
		l.h.log.Warn("refused a process of another user", "uid", puid, "pid", pid, "err", err)
		c.Close()
	}
}

// listenSocket listens on the Unix socket path, in a directory of mode
// 0700 owned by this user. A socket file left by a daemon that is gone is
// replaced; one that answers is another daemon's.
func listenSocket(path string) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return nil, service.Errorf(service.KindPermissionDenied, "socket directory %s belongs to uid %d, not to this user", dir, st.Uid)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, err
		}
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, service.Errorf(service.KindUnavailable, "a daemon already serves %s", path)
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, service.Errorf(service.KindUnavailable, "listen %s: %v", path, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// peerCred returns the uid and pid of the process at the other end of c.
func peerCred(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, 0, err
	}
	if cerr != nil {
		return -1, 0, cerr
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// WebSocketHandler returns the handler of the browsers' WebSocket: it
// refuses (403) a request whose Host is not a loopback address (against
// DNS rebinding), whose Origin is missing or not exactly one of the
// configuration's origins, or that does not present a registered
// application token in its "token" query parameter (401); it serves the
// others the daemon's service, without registering new applications.
func (h *Hub) WebSocketHandler() http.Handler {
	var origins []string
	if h.cfg.WebSocket != nil {
		origins = h.cfg.WebSocket.Origins
	}
	svc := h.newService(false)
	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
	h.mu.Lock()
	h.closers = append(h.closers, p.Close)
	h.mu.Unlock()
	ws := p.WebSocketHandler(peer.WithMaxFrameSize(MaxMessage), peer.WithAllowedOrigins(origins...))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(hostPort(r.Host)) {
			http.Error(w, "forbidden host", http.StatusForbidden)
			return
		}
		origin := r.Header.Get("Origin")
		if origin == "" || !slices.Contains(origins, origin) {
			h.log.Warn("refused a browser origin", "origin", origin)
			http.Error(w, "forbidden origin", http.StatusForbidden)
			return
		}
		if _, err := h.App(r.URL.Query().Get("token")); err != nil {
			http.Error(w, "application token required", http.StatusUnauthorized)
			return
		}
		ws.ServeHTTP(w, r)
	})
}

// hostPort adds a port to a Host header without one.
func hostPort(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	u := url.URL{Host: host}
	return fmt.Sprintf("%s:80", u.Hostname())
}
