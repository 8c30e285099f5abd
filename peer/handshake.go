package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// The protocol name and version of duplex's greeting.
const protocol = "SIMPLEX/1.0"

// extSet is a set of negotiated extensions.
type extSet uint16

// The extensions (spec.md, section 5). Each is negotiated on its own.
const (
	extCancel   extSet = 1 << iota // "cancel": the caller can cancel a call
	extDeadline                    // "deadline": the first req carries a timeout
	extEnd                         // "end": streams end with reqend/repend, items go out at once
	extWindow                      // "window": byte windows per stream and connection, reqcredit/repcredit/credit
	extGoaway                      // "goaway": graceful shutdown
	extPing                        // "ping": ping/pong keepalive
	extSafe                        // "safe": calls marked as only reading
)

// extAll is every extension this version implements.
const extAll = extCancel | extDeadline | extEnd | extGoaway | extPing | extSafe | extWindow

var extNames = [...]struct {
	bit  extSet
	name string
}{
	{extCancel, "cancel"},
	{extDeadline, "deadline"},
	{extEnd, "end"},
	{extGoaway, "goaway"},
	{extPing, "ping"},
	{extSafe, "safe"},
	{extWindow, "window"},
}

// names returns the extensions' names in the fixed order.
func (s extSet) names() []string {
	var out []string
	for _, e := range extNames {
		if s&e.bit != 0 {
			out = append(out, e.name)
		}
	}
	return out
}

// parseExt reads a comma-separated list of extension names, ignoring the
// ones this version does not know.
func parseExt(list string) extSet {
	var s extSet
	for _, n := range strings.Split(list, ",") {
		for _, e := range extNames {
			if e.name == n {
				s |= e.bit
			}
		}
	}
	return s
}

// greeting returns the connector's greeting for cfg (spec.md, 3.1). The
// baseline slot names a codec that a baseline acceptor, which reads no
// further, can speak: json if we have it (every duplex peer does), else
// msgpack. The glyph- parameters offer every codec in order of
// preference, the extensions and the windows; baseline peers ignore them.
func greeting(cfg *connConfig) string {
	codecs := cfg.Codecs
	if cfg.Baseline {
		return protocol + ";" + codecs[0]
	}
	slot := codecs[0]
	switch {
	case contains(codecs, "json"):
		slot = "json"
	case contains(codecs, "msgpack"):
		slot = "msgpack"
	}
	return fmt.Sprintf("%s;%s;glyph-codecs=%s;glyph-ext=%s;glyph-stream-window=%d;glyph-conn-window=%d;glyph-streams=%d",
		protocol, slot, strings.Join(codecs, ","), strings.Join(extAll.names(), ","), cfg.StreamWindow, cfg.ConnWindow, cfg.MaxStreams)
}

// handshake is what the handshake settled.
type handshake struct {
	codec string
	ext   extSet
	// peerStreamWindow and peerConnWindow are the bytes the remote
	// grants per stream and per connection; 0 without "window".
	peerStreamWindow, peerConnWindow int
	// peerStreams is how many calls the remote serves at once, as it
	// announced; 0 when it did not (a baseline or duplex peer).
	peerStreams int
}

// parseGreeting splits a greeting into its codec slot and parameters.
func parseGreeting(g string) (codec string, params map[string]string, err error) {
	parts := strings.Split(g, ";")
	if !strings.Contains(parts[0], "/") || len(parts) < 2 || parts[1] == "" {
		return "", nil, badFrame("greeting %q is not <name>/<version>;<codec>", clip(g))
	}
	params = map[string]string{}
	for _, p := range parts[2:] {
		if k, v, ok := strings.Cut(p, "="); ok {
			params[k] = v
		}
	}
	return parts[1], params, nil
}

// answerGreeting decides the acceptor's answer for cfg (spec.md, 3.2):
// the text to send and what was settled, or an error whose text follows
// "-ERR ".
func answerGreeting(g string, cfg *connConfig) (string, handshake, error) {
	codecs := cfg.Codecs
	slot, params, err := parseGreeting(g)
	if err != nil {
		return "", handshake{}, err
	}
	offered, extended := params["glyph-codecs"]
	if cfg.Baseline || !extended {
		if !contains(codecs, slot) {
			return "", handshake{}, errorf(service.KindUnsupported, "unsupported codec %q (supported: %s)", clip(slot), strings.Join(codecs, ","))
		}
		return "+OK", handshake{codec: slot}, nil
	}
	var h handshake
	for _, c := range strings.Split(offered, ",") {
		if contains(codecs, c) {
			h.codec = c
			break
		}
	}
	if h.codec == "" {
		return "", handshake{}, errorf(service.KindUnsupported, "no common codec (offered: %s; supported: %s)", clip(offered), strings.Join(codecs, ","))
	}
	h.ext = parseExt(params["glyph-ext"]) & extAll
	ans := "+OK;codec=" + h.codec
	if h.ext != 0 {
		ans += ";ext=" + strings.Join(h.ext.names(), ",")
	}
	if h.ext&extWindow != 0 {
		h.peerStreamWindow, h.peerConnWindow = defaultStreamWindow, defaultConnWindow
		if w, ok := params["glyph-stream-window"]; ok {
			if h.peerStreamWindow, err = parseWindow("stream-window", w); err != nil {
				return "", handshake{}, err
			}
		}
		if w, ok := params["glyph-conn-window"]; ok {
			if h.peerConnWindow, err = parseWindow("conn-window", w); err != nil {
				return "", handshake{}, err
			}
		}
		ans += ";stream-window=" + strconv.Itoa(cfg.StreamWindow) + ";conn-window=" + strconv.Itoa(cfg.ConnWindow)
	}
	if n, ok := params["glyph-streams"]; ok {
		if h.peerStreams, err = parseCount("streams", n); err != nil {
			return "", handshake{}, err
		}
	}
	ans += ";streams=" + strconv.Itoa(cfg.MaxStreams)
	return ans, h, nil
}

// parseAnswer reads the acceptor's answer to the greeting of cfg.
func parseAnswer(a string, cfg *connConfig) (handshake, error) {
	codecs := cfg.Codecs
	if strings.HasPrefix(a, "-") {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(a, "-ERR"), "-"))
		if why, ok := strings.CutPrefix(msg, overloadedPrefix); ok {
			return handshake{}, errorf(service.KindOverloaded, "peer refused the connection: %s", clip(strings.TrimSpace(why)))
		}
		return handshake{}, errorf(service.KindUnsupported, "peer refused the handshake: %s", clip(msg))
	}
	if !strings.HasPrefix(a, "+") {
		return handshake{}, badFrame("handshake answer %q does not start with + or -", clip(a))
	}
	parts := strings.Split(a, ";")
	if len(parts) == 1 || cfg.Baseline {
		// A baseline acceptor: the codec is the one in our baseline slot.
		slot, _, _ := parseGreeting(greeting(cfg))
		return handshake{codec: slot}, nil
	}
	var h handshake
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "codec":
			if !contains(codecs, v) {
				return handshake{}, badFrame("peer chose codec %q, which was not offered", clip(v))
			}
			h.codec = v
		case "ext":
			h.ext = parseExt(v)
		case "stream-window":
			w, err := parseWindow(k, v)
			if err != nil {
				return handshake{}, err
			}
			h.peerStreamWindow = w
		case "conn-window":
			w, err := parseWindow(k, v)
			if err != nil {
				return handshake{}, err
			}
			h.peerConnWindow = w
		case "streams":
			n, err := parseCount("streams", v)
			if err != nil {
				return handshake{}, err
			}
			h.peerStreams = n
		}
	}
	if h.codec == "" {
		return handshake{}, badFrame("handshake answer %q names no codec", clip(a))
	}
	if h.ext&extWindow != 0 {
		if h.peerStreamWindow == 0 {
			h.peerStreamWindow = defaultStreamWindow
		}
		if h.peerConnWindow == 0 {
			h.peerConnWindow = defaultConnWindow
		}
	}
	return h, nil
}

// overloadedPrefix begins the reason of an acceptor's refusal over its
// limits (spec.md, 3.2).
const overloadedPrefix = "overloaded:"

// maxAnnounced bounds the streams a peer may announce.
const maxAnnounced = 1 << 20

// maxWindow bounds the windows a peer may announce, in bytes.
const maxWindow = 1 << 30

// parseWindow reads an announced window (what names it).
func parseWindow(what, s string) (int, error) {
	w, err := strconv.Atoi(s)
	if err != nil || w < 1 || w > maxWindow {
		return 0, badFrame("bad %s %q (want 1 to %d)", what, clip(s), maxWindow)
	}
	return w, nil
}

// parseCount reads the announced streams (what names it).
func parseCount(what, s string) (int, error) {
	w, err := strconv.Atoi(s)
	if err != nil || w < 1 || w > maxAnnounced {
		return 0, badFrame("bad %s %q (want 1 to %d)", what, clip(s), maxAnnounced)
	}
	return w, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clip shortens text from the peer for error messages.
func clip(s string) string {
	if len(s) > 100 {
		return strings.ToValidUTF8(s[:100], "") + "…"
	}
	return s
}

// readHandshakeFrame reads the next frame that is not a keepalive.
func readHandshakeFrame(ctx context.Context, fc FrameConn) (string, error) {
	for {
		f, err := fc.ReadFrame(ctx)
		if err != nil {
			return "", err
		}
		if len(f.Data) > 0 {
			return string(f.Data), nil
		}
	}
}

// runHandshake runs fn with ctx bounded by the handshake timeout; if ctx
// ends first, fc is closed (which unblocks transports that cannot watch
// a context) and the error says so.
func runHandshake(ctx context.Context, fc FrameConn, timeout time.Duration, fn func(ctx context.Context) (handshake, error)) (handshake, error) {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(hctx, func() { fc.Close() })
	h, err := fn(hctx)
	if !stop() {
		// The context ended during the handshake.
		if ctx.Err() != nil {
			return handshake{}, ctxError("handshake", ctx)
		}
		return handshake{}, wrapErr(service.KindDeadlineExceeded, "handshake timed out", context.DeadlineExceeded)
	}
	if err != nil {
		fc.Close()
		var se *service.Error
		if errors.As(err, &se) {
			if se.Op == "" {
				c := *se
				c.Op = "handshake"
				return handshake{}, &c
			}
			return handshake{}, se
		}
		if oe := (*net.OpError)(nil); isTLSAlert(err, &oe) {
			// The remote refused our certificate after our side of the
			// TLS handshake ended (TLS 1.3): on the first read.
			se := tlsError(err)
			se.Op = "handshake"
			return handshake{}, se
		}
		e := readError(err)
		return handshake{}, &service.Error{Op: "handshake", Kind: e.Kind, Message: e.Message, Err: err}
	}
	return h, nil
}
