package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// WithTLS makes [Dial] and [Listen] speak TLS on "tls://host:port"
// addresses with cfg, which is cloned.
//
// For Dial, a nil cfg (or no WithTLS at all) verifies the server with the
// system's roots; an empty cfg.ServerName is the address's host. Set
// cfg.Certificates (or GetClientCertificate) for mutual TLS.
//
// For Listen, cfg must hold the server's certificate: Listen refuses
// "tls://" without it. cfg.ClientAuth = tls.RequireAndVerifyClientCert
// with cfg.ClientCAs asks for mutual TLS; handlers see the verified chain
// in [Conn.TLS]. The TLS handshake runs as the first part of the peer
// handshake, so that [WithHandshakeTimeout] bounds it and Accept does not
// wait for it; a failed one ends only its connection.
func WithTLS(cfg *tls.Config) TLSOption { return tlsOption{cfg} }

// A TLSOption is what [WithTLS] returns: a [DialOption] and a
// [ListenOption].
type TLSOption interface {
	DialOption
	ListenOption
}

type tlsOption struct{ cfg *tls.Config }

func (o tlsOption) applyDial(d *dialConfig)     { d.tls = o.cfg }
func (o tlsOption) applyListen(l *listenConfig) { l.tls = o.cfg }

// PeerCred is the identity of the process at the other end of a Unix
// socket: [intercept.PeerCred], which interceptors see in
// [intercept.Peer].
type PeerCred = intercept.PeerCred

// TLS returns the state of the connection's TLS session: after the
// handshake, with PeerCertificates and VerifiedChains holding the
// remote's certificate chain when it sent one (mutual TLS on the
// accepting side, always on the connecting side). It is nil for a
// connection without TLS. Connections from [Dial] and [Listen] with
// "tls://" and "wss://", and from [NewWebSocketHandler] behind an
// http.Server serving TLS, have it; a [FrameConn] of another kind has it
// when it implements TLS() *tls.ConnectionState.
func (c *Conn) TLS() *tls.ConnectionState {
	if t, ok := c.fc.(interface{ TLS() *tls.ConnectionState }); ok {
		return t.TLS()
	}
	return nil
}

// PeerCred returns the credentials of the process at the other end of a
// Unix socket from [Dial] or [Listen] ("unix://"): read once, when the
// connection is made. It is nil on other transports, and on systems other
// than Linux, where SO_PEERCRED is not available.
func (c *Conn) PeerCred() *PeerCred {
	if t, ok := c.fc.(interface{ PeerCred() *PeerCred }); ok {
		return t.PeerCred()
	}
	return nil
}

// Peer describes the other end of c as interceptors see it
// ([intercept.Call.Peer]), and as [intercept.PeerFromContext] finds it in
// the context of the calls c serves: its transport ("ws", "tcp", "tls",
// "unix", "stdio", or "pipe" for another [FrameConn]), [Conn.RemoteAddr],
// [Conn.TLS] and [Conn.PeerCred].
func (c *Conn) Peer() intercept.Peer {
	return intercept.Peer{Transport: transportOf(c.fc), Addr: c.RemoteAddr(), TLS: c.TLS(), Cred: c.PeerCred()}
}

// transportOf names the transport of fc, as [intercept.Peer.Transport]
// does.
func transportOf(fc FrameConn) string {
	switch c := fc.(type) {
	case *wsConn:
		return intercept.TransportWS
	case *streamConn:
		switch c.rwc.(type) {
		case *tls.Conn:
			return intercept.TransportTLS
		case *net.UnixConn:
			return intercept.TransportUnix
		case *net.TCPConn:
			return intercept.TransportTCP
		case stdio:
			return intercept.TransportStdio
		}
	}
	return intercept.TransportPipe
}

type connKey struct{}

// ConnFromContext returns the connection whose call a handler's ctx
// belongs to, or nil: how code the handler calls with ctx (a service's
// functions, served by package hyperpeer) learns the remote's address,
// [Conn.TLS] and [Conn.PeerCred].
func ConnFromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}

// TLS returns the state of the TLS session of a "tls://" stream after its
// handshake, nil without TLS.
func (c *streamConn) TLS() *tls.ConnectionState {
	if c.tls == nil {
		return nil
	}
	st := c.tls.ConnectionState()
	if !st.HandshakeComplete {
		return nil
	}
	return &st
}

// PeerCred returns the Unix socket's peer credentials, nil when there are none.
func (c *streamConn) PeerCred() *PeerCred { return c.cred }

// tlsHandshake runs fc's TLS handshake, when it has one, bounded by ctx
// (the peer handshake's), and says what failed: the remote's certificate
// (ours did not verify it, [service.KindUnauthenticated]), the remote's
// refusal of ours (a TLS alert, KindUnauthenticated), or the transport.
func tlsHandshake(ctx context.Context, fc FrameConn) error {
	sc, ok := fc.(*streamConn)
	if !ok || sc.tls == nil {
		return nil
	}
	err := sc.tls.HandshakeContext(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return tlsError(err)
}

// tlsError is the error of a TLS handshake that failed. Its message is
// crypto/tls's ("tls: failed to verify certificate: x509: ..."), which
// says what failed; an alert from the remote says that the remote sent it.
// The remote's address is left to the caller, which names it already (a
// log line's "remote", a client's URL).
func tlsError(err error) *service.Error {
	var (
		ve *tls.CertificateVerificationError
		ae tls.AlertError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		oe *net.OpError
	)
	switch {
	case isTLSAlert(err, &oe):
		return wrapErr(service.KindUnauthenticated, "the remote ended the TLS handshake: "+oe.Err.Error(), err)
	case errors.As(err, &ve), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci), errors.As(err, &ae):
		return wrapErr(service.KindUnauthenticated, err.Error(), err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "tls: ") {
		msg = "tls handshake: " + msg // EOF, a reset, ...
	}
	return wrapErr(service.KindUnavailable, msg, err)
}

// isTLSAlert reports whether err is an alert the remote sent during the
// TLS handshake (crypto/tls reports them as a *net.OpError of Op "remote
// error"): a refused certificate, nearly always. With TLS 1.3 the
// connecting side learns that the acceptor refused its certificate (or
// its lack of one) only on its first read.
func isTLSAlert(err error, oe **net.OpError) bool {
	return errors.As(err, oe) && (*oe).Op == "remote error"
}
