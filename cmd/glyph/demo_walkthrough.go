package main

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
)

// demoWalkthrough runs the walkthrough's client, walkthrough.Tour, against the
// server at d.url and prints every step: what was called and what came
// back. It then shows what the evolved service adds and how errors look.
func demoWalkthrough(ctx context.Context, d *demo) error {
	w := d.w
	fmt.Fprintf(w, `The walkthrough service (examples/walkthrough, version 2) is serving at
%s

The client below knows that URL and nothing else: it finds every function
on the pages the server sends and calls the forms and links it is given.
The same client code (walkthrough.Tour) works against version 1 of the service,
which had no parameter for hello, no shard in its users and no redirect in
find_user: go test ./internal/walkthrough checks it.

`, d.url)
	c := client.New()
	res, err := walkthrough.Tour(ctx, c, d.url, func(s walkthrough.Step) { printStep(d, s) })
	if err != nil {
		return err
	}
	want := walkthrough.Expected(2)
	if !reflect.DeepEqual(res, want) {
		return fmt.Errorf("the tour got %+v, want %+v", res, want)
	}

	fmt.Fprintf(w, "What version 2 added, a client that knows about it can use:\n\n")
	index, err := c.Get(ctx, d.url)
	if err != nil {
		return err
	}
	hello, err := index.Get("hello")
	if err != nil {
		return err
	}
	v, err := hello.Call(ctx, "Bob")
	if err != nil {
		return err
	}
	printStep(d, walkthrough.Step{Call: `index.hello("Bob")`, Note: "hello's new input, given by position (client.Named{\"name\": \"Bob\"} gives it by name)", Value: v})
	var s string
	if err := v.Decode(&s); err != nil || s != "Hello Bob" {
		return fmt.Errorf(`index.hello("Bob") gave %q, %v; want "Hello Bob"`, s, err)
	}

	fmt.Fprintf(w, "Errors come back as errors: the server's message, its status and a logref\nthat finds the failure in the server's log (the demo writes it on stderr).\n\n")
	findUser, err := index.Get("find_user")
	if err != nil {
		return err
	}
	_, err = findUser.Call(ctx, "zed")
	if client.StatusCode(err) != 404 {
		return fmt.Errorf(`index.find_user("zed"): got %v, want a 404 error`, err)
	}
	printFailure(d, `index.find_user("zed")`, "", err)
	goodbye, err := index.Get("goodbye")
	if err != nil {
		return err
	}
	_, err = goodbye.Call(ctx)
	if err == nil || client.StatusCode(err) != 0 {
		return fmt.Errorf("index.goodbye(): got %v, want an error made before any request", err)
	}
	printFailure(d, "index.goodbye()", "a required argument is missing: the client refuses before sending anything", err)
	return nil
}

// printStep prints a call, what it shows and the value it answered.
func printStep(d *demo, s walkthrough.Step) {
	fmt.Fprintf(d.w, "» %s\n", s.Call)
	if s.Note != "" {
		fmt.Fprintf(d.w, "  # %s\n", s.Note)
	}
	p := newPrinter(false)
	p.block(1, "", s.Value.Any())
	d.w.Write(p.out.Bytes())
	fmt.Fprintln(d.w)
}

// printFailure prints a call that failed and its error, as glyph call
// reports it.
func printFailure(d *demo, call, note string, err error) {
	fmt.Fprintf(d.w, "» %s\n", call)
	if note != "" {
		fmt.Fprintf(d.w, "  # %s\n", note)
	}
	msg := remoteError("error", err).Error()
	fmt.Fprintf(d.w, "  %s\n\n", strings.TrimSpace(msg))
}
