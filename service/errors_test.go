package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/service"
)

// The kinds' numbers, names and statuses are on the wire: they never
// change.
func TestKinds(t *testing.T) {
	tests := []struct {
		kind   service.Kind
		num    uint8
		name   string
		status int
	}{
		{service.KindOther, 0, "other", 500},
		{service.KindInvalid, 1, "invalid", 400},
		{service.KindNotFound, 2, "not_found", 404},
		{service.KindMethodNotAllowed, 3, "method_not_allowed", 405},
		{service.KindConflict, 4, "conflict", 409},
		{service.KindTooLarge, 5, "too_large", 413},
		{service.KindUnsupported, 6, "unsupported", 415},
		{service.KindUnauthenticated, 7, "unauthenticated", 401},
		{service.KindPermissionDenied, 8, "permission_denied", 403},
		{service.KindCanceled, 9, "canceled", 499},
		{service.KindDeadlineExceeded, 10, "deadline_exceeded", 504},
		{service.KindUnavailable, 11, "unavailable", 503},
		{service.KindInternal, 12, "internal", 500},
		{service.KindUnimplemented, 13, "unimplemented", 501},
		{service.KindOverloaded, 14, "overloaded", 503},
		{service.KindBadFrame, 15, "bad_frame", 400},
		{service.Kind(200), 200, "kind(200)", 500},
	}
	for _, tt := range tests {
		if uint8(tt.kind) != tt.num || tt.kind.String() != tt.name || tt.kind.HTTPStatus() != tt.status {
			t.Errorf("kind %d: %d %q %d, want %d %q %d", tt.kind, uint8(tt.kind), tt.kind.String(), tt.kind.HTTPStatus(), tt.num, tt.name, tt.status)
		}
		// Statuses shared by two kinds map back to the older kind.
		shared := map[service.Kind]service.Kind{service.KindOverloaded: service.KindUnavailable, service.KindBadFrame: service.KindInvalid}
		if tt.kind != service.KindOther && tt.kind != service.KindInternal && tt.num < 200 {
			want, ok := shared[tt.kind]
			if !ok {
				want = tt.kind
			}
			if got := service.KindForStatus(tt.status); got != want {
				t.Errorf("KindForStatus(%d) = %v, want %v", tt.status, got, want)
			}
		}
	}
	for status, want := range map[int]service.Kind{500: service.KindInternal, 502: service.KindInternal, 418: service.KindInvalid, 200: service.KindOther, 302: service.KindOther} {
		if got := service.KindForStatus(status); got != want {
			t.Errorf("KindForStatus(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want service.Kind
	}{
		{nil, service.KindOther},
		{errors.New("x"), service.KindOther},
		{service.Errorf(service.KindConflict, "x"), service.KindConflict},
		{fmt.Errorf("wrapped: %w", service.Errorf(service.KindNotFound, "x")), service.KindNotFound},
		{context.Canceled, service.KindCanceled},
		{fmt.Errorf("read: %w", context.DeadlineExceeded), service.KindDeadlineExceeded},
		{&service.Error{Err: context.Canceled}, service.KindCanceled},
	}
	for _, tt := range tests {
		if got := service.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		err  *service.Error
		want string
	}{
		{&service.Error{Kind: service.KindNotFound}, "not_found"},
		{&service.Error{Kind: service.KindInvalid, Op: "greet", Message: "bad"}, "greet: bad"},
		{&service.Error{Kind: service.KindInternal, Op: "f", Err: cause, Logref: "ab12"}, "f: cause (logref ab12)"},
		{&service.Error{Kind: service.KindInternal, Message: "internal error", Err: cause}, "internal error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.err, got, tt.want)
		}
	}
	e := &service.Error{Err: cause}
	if !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
	var se *service.Error
	if err := service.Errorf(service.KindConflict, "version %d", 3); !errors.As(err, &se) || se.Message != "version 3" || se.Kind != service.KindConflict {
		t.Errorf("Errorf: %#v", err)
	}
}

// How Serve reports the errors Go code returns.
func TestReturnedErrors(t *testing.T) {
	tests := []struct {
		fn      string
		err     error
		kind    service.Kind
		text    string // Error() without a new logref
		message string
		logref  string // "new": a new logref, which is logged
	}{
		{"plain", errors.New("plain failure"), service.KindInternal, "plain: plain failure", "plain failure", "new"},
		{"kind", service.Errorf(service.KindPermissionDenied, "not yours"), service.KindPermissionDenied, "kind: not yours", "not yours", ""},
		{"wrapped", fmt.Errorf("loading: %w", service.Errorf(service.KindNotFound, "no such row")), service.KindNotFound, "wrapped: no such row", "no such row", ""},
		{"other", &service.Error{Message: "unclassified"}, service.KindInternal, "other: unclassified", "unclassified", "new"},
		{"own_op", &service.Error{Op: "db.Get", Kind: service.KindUnavailable, Message: "retry"}, service.KindUnavailable, "db.Get: retry", "retry", ""},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), service.KindCanceled, "canceled: canceled", "canceled", ""},
		{"own_logref", &service.Error{Kind: service.KindInternal, Message: "mine", Logref: "given"}, service.KindInternal, "own_logref: mine (logref given)", "mine", "given"},
		{"cause", &service.Error{Kind: service.KindConflict, Err: errors.New("stale")}, service.KindConflict, "cause: stale", "", ""},
	}
	s, logs := newLogged()
	for _, tt := range tests {
		err := tt.err
		s.MustFunc(tt.fn, func() error { return err })
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			_, err := do(t, s, post("/"+tt.fn))
			var e *service.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T)", err, err)
			}
			text := e.Error()
			if tt.logref == "new" {
				if e.Logref == "" || !strings.Contains(logs.String(), e.Logref) {
					t.Errorf("logref %q not logged:\n%s", e.Logref, logs.String())
				}
				text = strings.TrimSuffix(text, " (logref "+e.Logref+")")
			} else if e.Logref != tt.logref {
				t.Errorf("logref %q, want %q", e.Logref, tt.logref)
			}
			if e.Kind != tt.kind || text != tt.text || e.Message != tt.message {
				t.Errorf("got %v %q (message %q), want %v %q (%q)", e.Kind, text, e.Message, tt.kind, tt.text, tt.message)
			}
		})
	}
}
