package main

import (
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
)

// walkthroughServer serves version 2 of the walkthrough and returns its
// root URL.
func walkthroughServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(hyperhttp.NewHandler(walkthrough.V2(), hyperhttp.Config{}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func TestCall(t *testing.T) {
	u := walkthroughServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"defaults", []string{"hello"}, "unicode \"Hello World\"\n"},
		{"positional", []string{"hello", "Bob"}, "unicode \"Hello Bob\"\n"},
		{"named", []string{"hello", "name=Bob Smith"}, "unicode \"Hello Bob Smith\"\n"},
		{"quoted", []string{"hello", `"123"`}, "unicode \"Hello 123\"\n"},
		{"a form returned by a form", []string{"greeting", "lang=fr"},
			`extension form {method: "POST", url: "` + u + `salut", values: [extension input {name: "name", type: "unicode", value: "World"}]}` + "\n"},
		{"two steps", []string{"find_user", "bob", ".message", "hi", "there"}, "unicode \"message for bob on shard-0: hi (there)\"\n"},
		{"a link", []string{"find_user", "bob", ".bio"}, "unicode \"bob is user 2, kept on shard-0\"\n"},
		{"data", []string{"find_user", "carol", ".id"}, "integer 3\n"},
		{"list", []string{"woo"}, "list (6 items)\n  integer 1\n  true\n  nil\n  false\n  unicode \"a\"\n  unicode \"b\"\n"},
		{"leading dot", []string{".goodbye", "name='x y'"}, "unicode \"Goodbye x y\"\n"},
		{"calling the answer", []string{"greeting", "lang=fr", ".", "Bob"}, "unicode \"Salut Bob\"\n"},
		{"calling the answer with its defaults", []string{"greeting", "."}, "unicode \"Hello World\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", append([]string{"call", u}, tt.args...)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if out != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}

func TestCallUser(t *testing.T) {
	u := walkthroughServer(t)
	out, errOut, code := glyph(t, "", "call", u, "find_user", "bob")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	state := "Du2%3Aid%3Bi2%3Bu5%3Ashard%3Bu7%3Ashard-0%3B%3B"
	want := `extension resource {name: "User", url: "` + u + `User/?` + state + `"}
  content: dict (4 entries)
    "bio": extension link {method: "GET", url: "` + u + `User/bio?` + state + `"}
    "id": integer 2
    "message": extension form {method: "POST", url: "` + u + `User/message?` + state + `", values: [extension input {name: "subject", type: "unicode"}, extension input {name: "body", type: "unicode"}]}
    "shard": unicode "shard-0"
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// What glyph printed is enough to go on from.
	out, _, code = glyph(t, "", "call", u+"User/?"+state, "bio")
	if code != 0 || out != "unicode \"bob is user 2, kept on shard-0\"\n" {
		t.Errorf("exit %d, %q", code, out)
	}
}

func TestCallTypes(t *testing.T) {
	out, errOut, code := glyph(t, "", "call", walkthroughServer(t), "types")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"ordered_dict (16 entries)\n",
		"  \"big integer\": integer 18446744073709551616\n",
		"  \"datetime\": datetime 2012-08-12T13:14:15.123456Z\n",
		"  \"extension\": extension note {lang: \"en\"}\n    content: unicode \"unknown extensions pass through\"\n",
		"  \"blob\": blob text/plain, 11 bytes\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestGet(t *testing.T) {
	u := walkthroughServer(t)
	out, errOut, code := glyph(t, "", "get", u)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := `extension resource {name: "walkthrough", url: "` + u + `"}
  content: dict (8 entries)
    "User": extension form {method: "POST", url: "` + u + `User", values: [extension input {name: "id", type: "integer"}, extension input {name: "shard", type: "unicode"}]}
    "find_user": extension form {method: "POST", url: "` + u + `find_user", values: [extension input {name: "name", type: "unicode"}]}
    "goodbye": extension form {method: "POST", url: "` + u + `goodbye", values: [extension input {name: "name", type: "unicode"}]}
    "greeting": extension form {method: "POST", url: "` + u + `greeting", values: [extension input {name: "lang", type: "unicode", value: "en"}]}
    "hello": extension form {method: "POST", url: "` + u + `hello", values: [extension input {name: "name", type: "unicode", value: "World"}]}
    "salut": extension form {method: "POST", url: "` + u + `salut", values: [extension input {name: "name", type: "unicode", value: "World"}]}
    "types": extension form {method: "POST", url: "` + u + `types", values: []}
    "woo": extension form {method: "POST", url: "` + u + `woo", values: []}
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRemoteErrors(t *testing.T) {
	u := walkthroughServer(t)
	logref := regexp.MustCompile(`logref [0-9a-f]+`)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // with logrefs replaced by "logref L"
	}{
		{"the server's error", []string{"call", u, "find_user", "zed"}, exitFailure,
			`glyph call: find_user("zed"): find_user: no user named "zed" (404 Not Found, logref L)` + "\n"},
		{"an error in a later step", []string{"call", u, "find_user", "bob", ".message", "hi"}, exitFailure,
			`glyph call: message("hi"): message: missing argument "body"` + "\n"},
		{"a missing argument", []string{"call", u, "goodbye"}, exitFailure,
			`glyph call: goodbye(): goodbye: missing argument "name"` + "\n"},
		{"calling data", []string{"call", u, "woo", ".", "1"}, exitFailure,
			`glyph call: .(1): a list is not callable: it is not a link or a form` + "\n"},
		{"an argument of the wrong type", []string{"call", u, "hello", "12"}, exitFailure,
			`glyph call: hello(12): hello: argument "name": expected unicode, got integer` + "\n"},
		{"no such name", []string{"call", u, "nope"}, exitFailure,
			`glyph call: nope(): no "nope" in resource "walkthrough" (it has User, find_user, goodbye, greeting, hello, salut, types, woo)` + "\n"},
		{"a bad argument", []string{"call", u, "hello", `"abc`}, exitFailure,
			`glyph call: argument "\"abc" of hello: at byte 0: unterminated string: no closing "` + "\n"},
		{"a bad named argument", []string{"call", u, "hello", "name=1x"}, exitFailure,
			`glyph call: argument name=1x of hello: at byte 0: bad number "1x": unexpected 'x' (quote it to pass a string)` + "\n"},
		{"a named argument twice", []string{"call", u, "hello", "name=a", "name=b"}, exitFailure,
			`glyph call: argument name=b of hello: name is given twice` + "\n"},
		{"a page that is not there", []string{"get", u + "nope"}, exitFailure,
			`glyph get: GET ` + u + `nope: no function or class "nope" (404 Not Found, logref L)` + "\n"},
		{"call without a name", []string{"call", u}, exitUsage, ""},
		{"get without a URL", []string{"get"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
			if tt.stderr != "" {
				if got := logref.ReplaceAllString(errOut, "logref L"); got != tt.stderr {
					t.Errorf("stderr\ngot  %s\nwant %s", got, tt.stderr)
				}
			}
		})
	}
}

// TestCallUnreachable: a server that is not there is said once, by the
// URL given and the address dialed, over HTTP and peers alike.
func TestCallUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	for _, u := range []string{srv.URL + "/", "ws://" + hostPort + "/peer", "tcp://" + hostPort} {
		_, errOut, code := glyph(t, "", "call", u, "hello")
		want := "glyph call: GET " + u + ": dial tcp " + hostPort + ": connect: connection refused\n"
		if code != exitFailure || errOut != want {
			t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, errOut, want)
		}
	}
}

func TestParseSteps(t *testing.T) {
	steps, err := parseSteps([]string{"find_user", "bob", "n=-4", ".message", "hi", "[1, 2]", ".x.y", ".", "z"})
	if err != nil {
		t.Fatal(err)
	}
	want := []step{
		{name: "find_user", positional: []any{"bob"}, named: client.Named{"n": int64(-4)}, src: []string{`"bob"`, "n=-4"}},
		{name: "message", positional: []any{"hi", []any{int64(1), int64(2)}}, src: []string{`"hi"`, "[1, 2]"}},
		{name: "x.y"},
		{name: "", positional: []any{"z"}, src: []string{`"z"`}},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("got  %#v\nwant %#v", steps, want)
	}
	if got := steps[0].String(); got != `find_user("bob", n=-4)` {
		t.Errorf("String() = %s", got)
	}
	if got := steps[3].String(); got != `.("z")` {
		t.Errorf("String() = %s", got)
	}
	if got := steps[0].callArgs(); !reflect.DeepEqual(got, []any{"bob", client.Named{"n": int64(-4)}}) {
		t.Errorf("callArgs() = %#v", got)
	}
}
