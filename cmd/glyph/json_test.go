package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// TestJSONOutput: get --json and call --json print the answer as
// glyphjson writes it, on one line, with the page's URLs made absolute,
// over HTTP and peers alike.
func TestJSONOutput(t *testing.T) {
	u := walkthroughServer(t)
	state := "Du2%3Aid%3Bi2%3Bu5%3Ashard%3Bu7%3Ashard-0%3B%3B"
	user := `{"$resource":{"name":"User","url":"` + u + `User/?` + state + `"},"$content":{` +
		`"bio":{"$link":{"method":"GET","url":"` + u + `User/bio?` + state + `"}},"id":2,` +
		`"message":{"$form":{"method":"POST","url":"` + u + `User/message?` + state + `","values":[` +
		`{"$input":{"name":"subject","type":"unicode"}},{"$input":{"name":"body","type":"unicode"}}]}},"shard":"shard-0"}}` + "\n"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a string", []string{"call", "--json", u, "hello", "Bob"}, `"Hello Bob"` + "\n"},
		{"flag after the arguments", []string{"call", u, "hello", "Bob", "--json"}, `"Hello Bob"` + "\n"},
		{"a resource", []string{"call", u, "find_user", "bob", "--json"}, user},
		{"a link followed", []string{"call", "--json", u, "find_user", "bob", ".bio"}, `"bob is user 2, kept on shard-0"` + "\n"},
		{"a list", []string{"call", "--json", u, "woo"}, `[1,true,null,false,"a","b"]` + "\n"},
		{"a form", []string{"call", "--json", u, "greeting", "lang=fr"},
			`{"$form":{"method":"POST","url":"` + u + `salut","values":[{"$input":{"name":"name","type":"unicode","value":"World"}}]}}` + "\n"},
		{"get", []string{"get", "--json", u + "User/?" + state}, user},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if out != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
	t.Run("every type", func(t *testing.T) {
		out, errOut, code := glyph(t, "", "call", "--json", u, "types")
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if !json.Valid([]byte(out)) || strings.Count(out, "\n") != 1 {
			t.Fatalf("not one line of JSON: %s", out)
		}
		for _, want := range []string{
			`["big integer",{"$integer":"18446744073709551616"}]`, `["float",1.5]`, `["list",[1,"two",3.0]]`,
			`["datetime",{"$datetime":"2012-08-12T13:14:15.123456Z"}]`, `["set",{"$set":[1,2,3]}]`,
			`["extension",{"$note":{"lang":"en"},"$content":"unknown extensions pass through"}]`,
			`["blob",{"$blob":{"content-type":"text/plain"},"$content":"aGVsbG8sIGJsb2I="}]`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
		// What it printed reads back as what glyph call prints.
		var v any
		if err := glyphjson.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := wire.Marshal(v); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("errors stay on stderr", func(t *testing.T) {
		out, errOut, code := glyph(t, "", "call", "--json", u, "find_user", "zed")
		if code != exitFailure || out != "" || !strings.Contains(errOut, `no user named "zed" (404 Not Found, logref `) {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	for name, pu := range walkthroughPeers(t) {
		t.Run("peer "+name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", "call", "--json", pu, "hello", "name=Bob")
			if code != 0 || out != `"Hello Bob"`+"\n" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}
