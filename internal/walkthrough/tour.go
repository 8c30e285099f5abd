package walkthrough

import (
	"context"
	"fmt"

	"github.com/glyph-ipc/glyph/client"
)

// A Step is one call the tour made and what came back.
type Step struct {
	Call  string        // the call, as a line of code: index.hello()
	Note  string        // what it shows; may be empty
	Value *client.Value // the answer
}

// TourResult holds what the tour got back, decoded.
type TourResult struct {
	Hello    string   // index.hello()
	Greeting string   // index.greeting() called
	Salut    string   // index.greeting(lang="fr") called
	Goodbye  string   // index.goodbye("bob")
	Message  string   // index.find_user("bob").message("hi", "there")
	Bio      string   // index.find_user("bob").bio()
	Woo      []any    // index.woo()
	Types    []string // the names types() answered with
}

// Tour is the walkthrough's client. It starts from the one URL it is
// given and finds everything else on the pages the server hands it, so it
// works unchanged against both versions of the service: it never names a
// URL, counts on a parameter list or expects a resource to come inline.
// see, when not nil, is told about every step as it is taken.
func Tour(ctx context.Context, c *client.Client, url string, see func(Step)) (*TourResult, error) {
	if see == nil {
		see = func(Step) {}
	}
	var res TourResult
	index, err := c.Get(ctx, url)
	if err != nil {
		return nil, err
	}
	see(Step{Call: "index = GET " + url, Note: "the index: a resource whose content holds a form or link per function and class", Value: index})

	call := func(on *client.Value, code, note, name string, args ...any) (*client.Value, error) {
		f, err := on.Get(name)
		if err != nil {
			return nil, err
		}
		v, err := f.Call(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", code, err)
		}
		see(Step{Call: code, Note: note, Value: v})
		return v, nil
	}
	str := func(v *client.Value, code string, out *string) error {
		if err := v.Decode(out); err != nil {
			return fmt.Errorf("%s: %w", code, err)
		}
		return nil
	}

	v, err := call(index, "index.hello()", "a form called without arguments; any input it has takes the server's default", "hello")
	if err != nil {
		return nil, err
	}
	if err := str(v, "index.hello()", &res.Hello); err != nil {
		return nil, err
	}

	v, err = call(index, `index.goodbye("bob")`, "", "goodbye", "bob")
	if err != nil {
		return nil, err
	}
	if err := str(v, `index.goodbye("bob")`, &res.Goodbye); err != nil {
		return nil, err
	}

	greet, err := call(index, "greet = index.greeting()", "a function returned a function: the client gets its form", "greeting")
	if err != nil {
		return nil, err
	}
	v, err = greet.Call(ctx)
	if err != nil {
		return nil, fmt.Errorf("greet(): %w", err)
	}
	see(Step{Call: "greet()", Note: "calling the form it got", Value: v})
	if err := str(v, "greet()", &res.Greeting); err != nil {
		return nil, err
	}
	salut, err := call(index, `salut = index.greeting(lang="fr")`, "", "greeting", client.Named{"lang": "fr"})
	if err != nil {
		return nil, err
	}
	v, err = salut.Call(ctx)
	if err != nil {
		return nil, fmt.Errorf("salut(): %w", err)
	}
	see(Step{Call: "salut()", Value: v})
	if err := str(v, "salut()", &res.Salut); err != nil {
		return nil, err
	}

	user, err := call(index, `user = index.find_user("bob")`, "a User: a resource whose state is in its URL and whose methods are a form and a link; "+
		"version 2 answers find_user with 303 See Other to it, version 1 sent it inline", "find_user", "bob")
	if err != nil {
		return nil, err
	}
	v, err = call(user, `user.message("hi", "there")`, "", "message", "hi", "there")
	if err != nil {
		return nil, err
	}
	if err := str(v, `user.message("hi", "there")`, &res.Message); err != nil {
		return nil, err
	}
	v, err = call(user, "user.bio()", "bio is safe: a link, fetched with GET and cacheable", "bio")
	if err != nil {
		return nil, err
	}
	if err := str(v, "user.bio()", &res.Bio); err != nil {
		return nil, err
	}

	v, err = call(index, "index.woo()", "", "woo")
	if err != nil {
		return nil, err
	}
	if err := v.Decode(&res.Woo); err != nil {
		return nil, fmt.Errorf("index.woo(): %w", err)
	}

	v, err = call(index, "index.types()", "one value of every glyph type, under its type's name", "types")
	if err != nil {
		return nil, err
	}
	defer v.Close() // its blob streams from the response
	for _, name := range typeNames {
		if _, err := v.Get(name); err != nil {
			return nil, fmt.Errorf("index.types(): %w", err)
		}
		res.Types = append(res.Types, name)
	}
	return &res, nil
}

// typeNames are the keys of types(), in order.
var typeNames = []string{
	"nil", "true", "false", "integer", "big integer", "unicode", "bytearray", "float",
	"datetime", "timedelta", "list", "set", "dict", "ordered dict", "extension", "blob",
}

// Expected returns what Tour gets back from version 1 (V1) or 2 (V2) of
// the service: the result the demo and the tests check the tour against.
func Expected(version int) *TourResult {
	r := &TourResult{
		Hello:    "Hello World",
		Greeting: "Hello World",
		Salut:    "Salut World",
		Goodbye:  "Goodbye bob",
		Message:  "message for bob on shard-0: hi (there)",
		Bio:      "bob is user 2, kept on shard-0",
		Woo:      []any{int64(1), true, nil, false, "a", "b"},
		Types: []string{"nil", "true", "false", "integer", "big integer", "unicode", "bytearray", "float",
			"datetime", "timedelta", "list", "set", "dict", "ordered dict", "extension", "blob"},
	}
	if version == 1 {
		r.Message, r.Bio = "message for bob: hi (there)", "bob is user 2"
	}
	return r
}
