package otelglyph

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attributes of glyph's own, beside the conventions'.
const (
	transportKey  = attribute.Key("glyph.transport")
	streamTypeKey = attribute.Key("glyph.stream_type")
)

// The status code of a call that succeeded.
const statusOK = "OK"

// methodOther is rpc.method for a call that named nothing the server has.
const methodOther = "_OTHER"

// systemName is rpc.system.name for a call over transport.
func systemName(transport string) string {
	switch transport {
	case intercept.TransportJSONRPC:
		return "jsonrpc"
	case intercept.TransportXMLRPC:
		return "xmlrpc"
	}
	return "glyph"
}

// methodName is rpc.method for a call of procedure: the path without a
// leading "/" or a query, and without the segments between the first and
// the last (a persistent instance's id), or "/" for the index.
func methodName(procedure string) string {
	p, _, _ := strings.Cut(procedure, "?")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "/"
	}
	first, rest, nested := strings.Cut(p, "/")
	if !nested {
		return p
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		return first + "/" + rest[i+1:]
	}
	return p
}

// statusCode is rpc.response.status_code for a call that ended with err:
// "OK", or its kind in capitals ("NOT_FOUND").
func statusCode(err error) string {
	if err == nil {
		return statusOK
	}
	return strings.ToUpper(kindOf(err).String())
}

// kindOf is err's kind, with the context's errors as their kinds.
func kindOf(err error) service.Kind {
	var se *service.Error
	switch {
	case errors.As(err, &se):
		return se.Kind
	case errors.Is(err, context.Canceled):
		return service.KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return service.KindDeadlineExceeded
	}
	return service.KindOf(err)
}

// serverFault reports whether err is the server's fault rather than the
// caller's: a serving span's status is Error only then.
func serverFault(err error) bool {
	return kindOf(err).HTTPStatus() >= 500
}

// networkAttrs are the network.* attributes of a transport.
func networkAttrs(transport string) []attribute.KeyValue {
	var proto, netw string
	switch transport {
	case intercept.TransportHTTP, intercept.TransportJSONRPC, intercept.TransportXMLRPC:
		proto, netw = "http", "tcp"
	case intercept.TransportWS:
		proto, netw = "websocket", "tcp"
	case intercept.TransportNATS:
		proto, netw = "nats", "tcp"
	case intercept.TransportTCP, intercept.TransportTLS:
		netw = "tcp"
	case intercept.TransportUnix:
		netw = "unix"
	case intercept.TransportStdio, intercept.TransportPipe:
		netw = "pipe"
	}
	var out []attribute.KeyValue
	if netw != "" {
		out = append(out, semconv.NetworkTransportKey.String(netw))
	}
	if proto != "" {
		out = append(out, semconv.NetworkProtocolName(proto))
	}
	return out
}

// hostPort splits a peer's address into host and port: "127.0.0.1:80",
// "tcp://[::1]:80", "ws://host:80/path". ok is false for an address
// without a port (a socket path, a NATS subject).
func hostPort(addr string) (host string, port int, ok bool) {
	if _, rest, found := strings.Cut(addr, "://"); found {
		addr = rest
	}
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		addr = addr[:i]
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, false
	}
	return h, n, true
}
