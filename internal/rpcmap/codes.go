package rpcmap

import (
	"errors"

	"github.com/glyph-ipc/glyph/service"
)

// The error codes of the XML-RPC fault code interoperability convention,
// which JSON-RPC 2.0 adopted: what goes wrong before a call reaches the
// service, and the kinds that have a standard code.
const (
	CodeParseError     = -32700 // the body is not JSON or XML
	CodeInvalidRequest = -32600 // the body is not a request
	CodeMethodNotFound = -32601 // no such method
	CodeInvalidParams  = -32602 // the arguments do not fit the method
	CodeInternalError  = -32603 // the server failed
)

// CodeServerErrorBase is the start of the implementation-defined server
// error range (-32000 to -32099): a [service.Kind] without a standard
// code is sent as CodeServerErrorBase minus the kind's number.
const CodeServerErrorBase = -32000

// kindCodes is the one table from service kinds to codes, read both ways
// (the transports' spec.md list it).
var kindCodes = map[service.Kind]int{
	service.KindOther:    CodeInternalError,
	service.KindInvalid:  CodeInvalidParams,
	service.KindInternal: CodeInternalError,
}

// CodeForKind returns the code sent for an error of kind k: a standard
// code from the table, or [CodeServerErrorBase] minus k.
func CodeForKind(k service.Kind) int {
	if c, ok := kindCodes[k]; ok {
		return c
	}
	return CodeServerErrorBase - int(k)
}

// KindForCode returns the kind a client reports for code: the kind
// [CodeForKind] maps to it, [service.KindInvalid] for a parse error or an
// invalid request, [service.KindNotFound] for a method not found, and
// [service.KindOther] for codes outside the table (an application's own,
// from a server that is not glyph's).
func KindForCode(code int) service.Kind {
	switch code {
	case CodeParseError, CodeInvalidRequest, CodeInvalidParams:
		return service.KindInvalid
	case CodeMethodNotFound:
		return service.KindNotFound
	case CodeInternalError:
		return service.KindInternal
	}
	if k := CodeServerErrorBase - code; k > 0 && k < 100 {
		return service.Kind(k)
	}
	return service.KindOther
}

// Failure is what a transport answers for a failed call.
type Failure struct {
	Kind    service.Kind // never KindOther: an error without a kind is internal
	Code    int          // the kind's code; CodeMethodNotFound for a method the service lacks
	Message string
	Logref  string
}

// FailureOf returns the answer to a failed call: err's kind, code,
// message and logref.
func FailureOf(err error) Failure {
	var e *service.Error
	if !errors.As(err, &e) {
		e = &service.Error{Kind: service.KindOf(err), Err: err}
	}
	kind := e.Kind
	if kind == service.KindOther {
		kind = service.KindInternal
	}
	code := CodeForKind(kind)
	if errors.Is(err, ErrNoMethod) {
		code = CodeMethodNotFound
	}
	return Failure{Kind: kind, Code: code, Message: e.Hyper().Message, Logref: e.Logref}
}
