package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestRun: the token opens the service over HTTP and TCP alike, where the
// function sees who called and how; without one the service refuses.
func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`\Awhoami at http://127\.0\.0\.1:[0-9]+/: alice, over http
whoami at tcp://127\.0\.0\.1:[0-9]+: alice, over tcp
without a token: unauthenticated: no bearer token: send the header Authorization: Bearer <token>
\z`)
	if !want.MatchString(out.String()) {
		t.Errorf("the program printed\n%s", out.String())
	}
}
