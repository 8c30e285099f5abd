package jsonrpc

import (
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
)

// The error codes of JSON-RPC 2.0, which the server answers for what
// goes wrong before a call reaches the service, and for the kinds that
// have a standard code.
const (
	CodeParseError     = rpcmap.CodeParseError     // the body is not JSON
	CodeInvalidRequest = rpcmap.CodeInvalidRequest // the JSON is not a request object
	CodeMethodNotFound = rpcmap.CodeMethodNotFound // no such method
	CodeInvalidParams  = rpcmap.CodeInvalidParams  // the arguments do not fit the method
	CodeInternalError  = rpcmap.CodeInternalError  // the server failed
)

// CodeServerErrorBase is the start of the implementation-defined server
// error range (-32000 to -32099): a [service.Kind] without a standard
// code is sent as CodeServerErrorBase minus the kind's number.
const CodeServerErrorBase = rpcmap.CodeServerErrorBase

// CodeForKind returns the code that the server sends for an error of
// kind k: a standard code from the table in spec.md, or
// [CodeServerErrorBase] minus k. (A method the service lacks is
// [CodeMethodNotFound]; a [service.KindNotFound] error from a call that
// was made, such as an instance that is gone, is -32002.)
func CodeForKind(k service.Kind) int { return rpcmap.CodeForKind(k) }

// KindForCode returns the kind a client reports for code: the kind
// [CodeForKind] maps to it, [service.KindInvalid] for a parse error or an
// invalid request, and [service.KindOther] for codes outside the table
// (an application's own codes, from a server that is not glyph's).
func KindForCode(code int) service.Kind { return rpcmap.KindForCode(code) }
