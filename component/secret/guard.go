package secret

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Handler returns h behind a check of every request's proof: a request
// without a valid one gets 401 Unauthorized (and WWW-Authenticate:
// Glyph-Auth) without reaching h, and is logged on logger (nil:
// slog.Default) at warn level, with the remote address and the reason,
// never the proof. It guards what is called with HTTP requests
// (hyperglyph, JSON-RPC, XML-RPC); peers over WebSocket send their proof
// with each call, not with the upgrade request, so serve them behind
// [PeerHandler] instead.
func Handler(r *Keyring, h http.Handler, logger *slog.Logger) http.Handler {
	logger = orDefault(logger)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if err := r.Check(req.Header.Get(Header)); err != nil {
			logRefusal(logger, "http", req.RemoteAddr, req.Method+" "+req.URL.Path, err)
			w.Header().Set("WWW-Authenticate", Header)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(service.KindOf(err).HTTPStatus())
			fmt.Fprintln(w, service.KindOf(err).String()+": "+errMessage(err))
			return
		}
		h.ServeHTTP(w, req)
	})
}

// PeerHandler returns h behind a check of every call's proof (its call
// header [Header]): a call without a valid one is answered with a
// [service.KindUnauthenticated] error without reaching h, and logged as
// [Handler] logs.
func PeerHandler(r *Keyring, h peer.Handler, logger *slog.Logger) peer.Handler {
	logger = orDefault(logger)
	return peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		if err := r.Check(headerValue(s.Header(), Header)); err != nil {
			remote := ""
			if c := s.Conn(); c != nil {
				remote = c.RemoteAddr()
			}
			logRefusal(logger, "peer", remote, s.Method(), err)
			return nil, err
		}
		return h.ServePeer(ctx, s)
	})
}

// CheckHeader checks the proof among a request's headers (a
// [service.Request]'s Header, a NATS message's), for transports that
// take a check function (hypernats.WithAuthorize), logging a refusal as
// [Handler] does.
func CheckHeader(r *Keyring, logger *slog.Logger, transport string) func(ctx context.Context, header map[string][]string, target string) error {
	logger = orDefault(logger)
	return func(ctx context.Context, header map[string][]string, target string) error {
		var v string
		for k, vs := range header {
			if strings.EqualFold(k, Header) && len(vs) > 0 {
				v = vs[0]
			}
		}
		if err := r.Check(v); err != nil {
			logRefusal(logger, transport, "", target, err)
			return err
		}
		return nil
	}
}

// headerValue finds a peer call header by name, whatever its case.
func headerValue(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func errMessage(err error) string {
	var se *service.Error
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}

func logRefusal(l *slog.Logger, transport, remote, target string, err error) {
	l.Warn("refused a call", "transport", transport, "remote", remote, "target", target, "reason", errMessage(err))
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// RequireFor reports whether a listener at addr must have a secret
// whatever the deployment says: every listener that is not a Unix
// socket or on a loopback address. An unparseable address must.
func RequireFor(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return false
	case *net.TCPAddr:
		return !a.IP.IsLoopback()
	}
	return true
}

// Follow reads the lines of a supervisor's secret pipe (spec.md) into r
// until the pipe ends, and returns: io.EOF when the supervisor closed it
// (or died), which is the child's signal to exit, or the first bad line's
// error. The first line is read before Follow returns to a caller that
// wants it: see [ReadFirst].
func Follow(rd *bufio.Reader, r *Keyring) error {
	for {
		if err := readLine(rd, r); err != nil {
			return err
		}
	}
}

// ReadFirst reads the first line of a secret pipe into a new keyring,
// which it returns with the reader to pass to [Follow].
func ReadFirst(pipe io.Reader) (*Keyring, *bufio.Reader, error) {
	rd := bufio.NewReaderSize(pipe, maxLine)
	r := newKeyring()
	if err := readLine(rd, r); err != nil {
		if err == io.EOF {
			return nil, nil, errors.New("secret: the pipe ended before its first line")
		}
		return nil, nil, err
	}
	return r, rd, nil
}

func readLine(rd *bufio.Reader, r *Keyring) error {
	line, err := rd.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return fmt.Errorf("secret: a line longer than %d bytes", maxLine)
	}
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return err
	}
	cur, acc, err := ParseLine(string(line))
	if err != nil {
		return err
	}
	r.Set(cur, acc)
	return nil
}
