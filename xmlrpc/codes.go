package xmlrpc

import (
	"fmt"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
)

// The fault codes the server sends for what goes wrong before a call
// reaches the service, and for the kinds that have a standard code. They
// are the codes of the XML-RPC fault code interoperability convention,
// which JSON-RPC 2.0 adopted too.
const (
	CodeParseError     = rpcmap.CodeParseError     // the body is not XML
	CodeInvalidRequest = rpcmap.CodeInvalidRequest // the XML is not a methodCall
	CodeMethodNotFound = rpcmap.CodeMethodNotFound // no such method
	CodeInvalidParams  = rpcmap.CodeInvalidParams  // the arguments do not fit the method
	CodeInternalError  = rpcmap.CodeInternalError  // the server failed
)

// CodeServerErrorBase is the start of the implementation-defined server
// error range: a [service.Kind] without a standard code is sent as
// CodeServerErrorBase minus the kind's number.
const CodeServerErrorBase = rpcmap.CodeServerErrorBase

// CodeForKind returns the fault code that the server sends for an error
// of kind k: a standard code from the table in spec.md, or
// [CodeServerErrorBase] minus k. (A method the service lacks is
// [CodeMethodNotFound]; a [service.KindNotFound] error from a call that
// was made is -32002.)
func CodeForKind(k service.Kind) int { return rpcmap.CodeForKind(k) }

// KindForCode returns the kind a client reports for a fault code: the
// kind [CodeForKind] maps to it, [service.KindInvalid] for a parse error
// or an invalid request, and [service.KindOther] for codes outside the
// table (an application's own codes, from a server that is not glyph's).
func KindForCode(code int) service.Kind { return rpcmap.KindForCode(code) }

// Fault is an XML-RPC fault, as a server answered it. The error a call
// returns is a *[service.Error] whose kind [KindForCode] gives, and which
// wraps the Fault (reach it with errors.As).
type Fault struct {
	Code   int
	String string
}

// Error returns the fault string and code.
func (f *Fault) Error() string { return fmt.Sprintf("%s (XML-RPC fault %d)", f.String, f.Code) }
