// Package bearer authenticates calls by bearer token (RFC 6750), on every
// transport: an interceptor for the serving side ([Server]) that checks
// the Authorization header of each call and puts the caller's identity in
// its context ([Identity]), and one for the calling side ([Client]) that
// adds the token to each call.
//
// Register the server's on the service, so that it guards every transport
// the service is served over (HTTP, peers, NATS, JSON-RPC, XML-RPC,
// in-process):
//
//	svc := service.New(service.WithInterceptors(bearer.Server(bearer.Static(map[string]string{
//		os.Getenv("ADMIN_TOKEN"): "admin",
//	}))))
//
// and the client's on the client:
//
//	c := client.New(client.WithInterceptors(bearer.Client(func(context.Context) (string, error) {
//		return os.Getenv("ADMIN_TOKEN"), nil
//	})))
//
// A call without a token, or with one the verifier refuses, fails with
// [service.KindUnauthenticated] (HTTP status 401, with the challenge
// "WWW-Authenticate: Bearer" that package hyperhttp gives every 401, and
// error="invalid_token" when a token was refused) before the service's
// function runs. Over HTTP the token travels as the header
// "Authorization: Bearer <token>"; over peers and NATS, as the call
// header of that name. Tokens are secrets: send them only over TLS
// (https://, wss://, tls://) or a Unix socket, and never log them; this
// package does not.
package bearer

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// Verifier checks a token and returns the identity of its holder, such as
// a user name or a struct of claims. An error refuses the call: a
// *service.Error keeps its kind (KindPermissionDenied for a known caller
// who may not call, KindUnavailable when the verifier cannot tell), any
// other error is [service.KindUnauthenticated].
type Verifier func(ctx context.Context, token string) (identity any, err error)

// Static is a [Verifier] of fixed tokens: each key of tokens is a token,
// its value the identity of its holder. Every token is compared in
// constant time ([Equal]), so that how long a refusal takes says nothing
// about the tokens. Empty tokens are never accepted.
func Static[ID any](tokens map[string]ID) Verifier {
	type entry struct {
		token string
		id    ID
	}
	entries := make([]entry, 0, len(tokens))
	for t, id := range tokens {
		if t != "" {
			entries = append(entries, entry{t, id})
		}
	}
	return func(_ context.Context, token string) (any, error) {
		var found *entry
		for i := range entries {
			if Equal(entries[i].token, token) && found == nil {
				found = &entries[i]
			}
		}
		if found == nil {
			return nil, errUnknownToken
		}
		return found.id, nil
	}
}

var errUnknownToken = &service.Error{Kind: service.KindUnauthenticated, Message: "unknown bearer token"}

// Equal reports whether two tokens are equal, in a time that depends on
// their lengths only.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

type identityKey struct{}

// Identity returns the identity [Server]'s verifier found for the call
// whose context ctx is: in a service's function, the caller's.
func Identity(ctx context.Context) (any, bool) {
	id, ok := ctx.Value(identityKey{}).(identityBox)
	return id.v, ok
}

// identityBox holds an identity, so that a nil one is still found.
type identityBox struct{ v any }

// WithIdentity returns a copy of ctx whose [Identity] is id: what Server
// does, and what a test or an in-process caller that authenticated
// otherwise may do.
func WithIdentity(ctx context.Context, id any) context.Context {
	return context.WithValue(ctx, identityKey{}, identityBox{id})
}

// Token returns the bearer token of an Authorization header value, or
// false when it is not one: the scheme "Bearer" (in any case), one space,
// and a token.
func Token(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Server returns the serving side's interceptor: every call it serves
// must carry a bearer token that verify accepts, and runs with the
// identity verify returned in its context ([Identity]). Calls on the
// calling side pass through it untouched.
func Server(verify Verifier) intercept.Interceptor {
	return server{verify}
}

type server struct{ verify Verifier }

// authenticate returns ctx with the identity of call's caller.
func (s server) authenticate(ctx context.Context, call *intercept.Call) (context.Context, error) {
	token, ok := Token(call.Header.Get("Authorization"))
	if !ok {
		return nil, &service.Error{Op: call.Procedure, Kind: service.KindUnauthenticated, Message: "no bearer token: send the header Authorization: Bearer <token>"}
	}
	id, err := s.verify(ctx, token)
	if err != nil {
		var se *service.Error
		if errors.As(err, &se) && se.Kind != service.KindOther {
			c := *se
			if c.Op == "" {
				c.Op = call.Procedure
			}
			return nil, &c
		}
		return nil, &service.Error{Op: call.Procedure, Kind: service.KindUnauthenticated, Message: "bearer token refused: " + err.Error(), Err: err}
	}
	return WithIdentity(ctx, id), nil
}

func (s server) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, call *intercept.Call) (any, error) {
		if call.Side != intercept.SideServer {
			return next(ctx, call)
		}
		ctx, err := s.authenticate(ctx, call)
		if err != nil {
			return nil, err
		}
		return next(ctx, call)
	}
}

func (s server) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
		if call.Side != intercept.SideServer {
			return next(ctx, call)
		}
		ctx, err := s.authenticate(ctx, call)
		if err != nil {
			return nil, err
		}
		return next(ctx, call)
	}
}

// Client returns the calling side's interceptor: each call carries the
// token that token returns for it, as "Authorization: Bearer <token>". An
// error from token fails the call before it is sent. Calls on the serving
// side pass through it untouched.
func Client(token func(ctx context.Context) (string, error)) intercept.Interceptor {
	return clientSide{token}
}

type clientSide struct {
	token func(ctx context.Context) (string, error)
}

func (c clientSide) authorize(ctx context.Context, call *intercept.Call) error {
	t, err := c.token(ctx)
	if err != nil {
		return err
	}
	call.Header.Set("Authorization", "Bearer "+t)
	return nil
}

func (c clientSide) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, call *intercept.Call) (any, error) {
		if call.Side == intercept.SideClient {
			if err := c.authorize(ctx, call); err != nil {
				return nil, err
			}
		}
		return next(ctx, call)
	}
}

func (c clientSide) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
		if call.Side == intercept.SideClient {
			if err := c.authorize(ctx, call); err != nil {
				return nil, err
			}
		}
		return next(ctx, call)
	}
}
