package main

import (
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/peertest"
)

// TestTLSPeerFlags: glyph call tls:// against a server that requires a
// client certificate: trusted with --cacert, answered with --cert and
// --key, whose subject the service sees.
func TestTLSPeerFlags(t *testing.T) {
	ca := peertest.NewCA(t, "glyph test CA")
	dir := t.TempDir()
	caFile, certFile, keyFile := ca.WriteFiles(t, dir, "me", ca.Issue(t, "me", false))
	addr := ca.ServeWhoami(t)

	tests := []struct {
		name   string
		flags  []string
		code   int
		out    string
		errOut string // what stderr holds
	}{
		{"trusted and answered", []string{"--cacert", caFile, "--cert", certFile, "--key", keyFile}, 0, "unicode \"me\"\n", ""},
		{"no client certificate", []string{"--cacert", caFile}, exitFailure, "", "certificate required"},
		{"system roots", []string{"--cert", certFile, "--key", keyFile}, exitFailure, "", "certificate signed by unknown authority"},
		{"cert without key", []string{"--cacert", caFile, "--cert", certFile}, exitUsage, "", "--cert and --key go together"},
		{"key for another certificate", []string{"--cacert", caFile, "--cert", caFile, "--key", keyFile}, exitUsage, "", "--cert/--key: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", append([]string{"call", addr, "whoami"}, tt.flags...)...)
			if code != tt.code || out != tt.out || !strings.Contains(errOut, tt.errOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q", code, out, errOut, tt.code, tt.out, tt.errOut)
			}
		})
	}
}
