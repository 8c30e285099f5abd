package rpcmap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	glyphclient "github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/internal/callchain"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// HTTPClient sends HTTP requests, as the transports' HTTPClient does.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Post POSTs the body of a call of method to url with header (and the
// [TimeoutHeader] of ctx's deadline), and returns the answer with its
// body read, up to maxResponse bytes. Its errors are *[service.Error]:
// [service.KindInvalid] for a bad URL, [service.KindUnavailable] when
// the server cannot be reached, [service.KindCanceled] or
// [service.KindDeadlineExceeded] when ctx ends, [service.KindTooLarge]
// for a longer body. The bytes of the body sent and of the answer's read
// count in the interceptors' Sizes of the call ctx carries
// ([callchain.Sizes]).
func Post(ctx context.Context, client HTTPClient, url string, header http.Header, method string, body []byte, maxResponse int64) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, &service.Error{Op: method, Kind: service.KindInvalid, Message: "bad URL: " + err.Error(), Err: err}
	}
	// The call's headers, from its context (as the glyph client sends
	// them over HTTP and peers), then the client's own, which win.
	for k, v := range peer.Header(ctx) {
		req.Header.Set(k, v)
	}
	for k, v := range glyphclient.CallHeader(ctx) {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if t := TimeoutValue(ctx); t != "" {
		req.Header.Set(TimeoutHeader, t)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, transportError(ctx, method, err)
	}
	defer resp.Body.Close()
	sizes := callchain.Sizes(ctx)
	sizes.AddOut(int64(len(body)))
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	sizes.AddIn(int64(len(raw)))
	if err != nil {
		return nil, nil, transportError(ctx, method, err)
	}
	if int64(len(raw)) > maxResponse {
		return nil, nil, &service.Error{Op: method, Kind: service.KindTooLarge, Message: fmt.Sprintf("a response of more than %d bytes", maxResponse)}
	}
	return resp, raw, nil
}

// transportError is the error of a request that got no answer.
func transportError(ctx context.Context, method string, err error) error {
	if ctx.Err() != nil {
		return &service.Error{Op: method, Kind: service.KindOf(ctx.Err()), Message: ctx.Err().Error(), Err: err}
	}
	return &service.Error{Op: method, Kind: service.KindUnavailable, Message: err.Error(), Err: err}
}

// ErrMessage is err's message without its operation: a
// *[service.Error]'s Message, else err.Error().
func ErrMessage(err error) string {
	var e *service.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
