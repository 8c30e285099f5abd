package hyper_test

import (
	"net/url"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
)

func TestWireName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FindUser", "find_user"},
		{"ID", "id"},
		{"HTTPServer", "http_server"},
		{"Bio", "bio"},
		{"UserID2", "user_id2"},
		{"already_snake", "already_snake"},
	}
	for _, tt := range tests {
		if got := hyper.WireName(tt.in); got != tt.want {
			t.Errorf("WireName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeQuery(t *testing.T) {
	in := []byte("Ou4:name;u5:a+b~c;;")
	got := hyper.EscapeQuery(in)
	if want := "Ou4%3Aname%3Bu5%3Aa%2Bb%7Ec%3B%3B"; got != want {
		t.Fatalf("EscapeQuery = %q, want %q", got, want)
	}
	back, err := url.QueryUnescape(got)
	if err != nil || back != string(in) {
		t.Fatalf("QueryUnescape = %q, %v", back, err)
	}
}

// UnescapeQuery is url.QueryUnescape as bytes, errors included.
func TestUnescapeQuery(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, in := range []string{
		"", "abc", "Ou4%3Aname%3Bu3%3Abob%3B%3B", "a+b", "%2B%2b", "%e2%82%AC", hyper.EscapeQuery(all),
		"%", "%2", "%zz", "abc%", "a%2", "%g1x", "%1g", "ok%2Bthen%", "%%41", "~sig",
	} {
		want, werr := url.QueryUnescape(in)
		got, err := hyper.UnescapeQuery(in)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Errorf("%q: error %v, want %v", in, err, werr)
			continue
		}
		if err == nil && string(got) != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
