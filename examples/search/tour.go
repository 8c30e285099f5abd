package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/searchapp/search"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// The query the tour asks on every protocol.
const (
	query      = "red fruit"
	maxResults = 3
)

// caller calls Search.RunQuery through the front one way.
type caller struct {
	name string
	call func(ctx context.Context, root string) (search.ThingiesOfType, error)
}

var callers = []caller{
	{"hyperglyph over HTTP", func(ctx context.Context, root string) (search.ThingiesOfType, error) {
		return navigate(ctx, root)
	}},
	{"peers at " + front.PathPeer, func(ctx context.Context, root string) (search.ThingiesOfType, error) {
		return navigate(ctx, "ws"+strings.TrimPrefix(root, "http")+strings.TrimPrefix(front.PathPeer, "/"))
	}},
	{"JSON-RPC at " + front.PathJSONRPC, func(ctx context.Context, root string) (search.ThingiesOfType, error) {
		var res search.ThingiesOfType
		err := jsonrpc.NewClient(root+strings.TrimPrefix(front.PathJSONRPC, "/")).Call(ctx, "Search.run_query", nil,
			map[string]any{"query": query, "max_results": maxResults}, &res)
		return res, err
	}},
	{"XML-RPC at " + front.PathXMLRPC, func(ctx context.Context, root string) (search.ThingiesOfType, error) {
		var res search.ThingiesOfType
		err := xmlrpc.NewClient(root+strings.TrimPrefix(front.PathXMLRPC, "/")).Call(ctx, "Search.run_query", []any{query, maxResults}, nil, &res)
		return res, err
	}},
	{"a Go caller bound to the front", func(ctx context.Context, root string) (search.ThingiesOfType, error) {
		r, err := component.NewRouter(component.WithRoutes(component.Routes{"Search": {Providers: []string{root}}}))
		if err != nil {
			return search.ThingiesOfType{}, err
		}
		defer r.Close()
		s, err := component.Dial[search.Search](ctx, r)
		if err != nil {
			return search.ThingiesOfType{}, err
		}
		return s.RunQuery(ctx, query, maxResults)
	}},
}

// navigate calls RunQuery by following the front's links and forms from
// its index, as any hyperglyph client does.
func navigate(ctx context.Context, root string) (search.ThingiesOfType, error) {
	var res search.ThingiesOfType
	c := client.New()
	defer c.Close()
	idx, err := c.Get(ctx, root)
	if err != nil {
		return res, err
	}
	v, err := idx.Path(ctx, "Search.run_query", query, maxResults)
	if err != nil {
		return res, err
	}
	defer v.Close()
	return res, v.Decode(&res)
}

// tour calls the front at root as outside callers would, printing what
// it finds and checking that every protocol answers the same and that
// Storage's methods answer as names that do not exist.
func tour(ctx context.Context, root string, w io.Writer) error {
	if err := showIndex(ctx, root, w); err != nil {
		return err
	}
	fmt.Fprintf(w, "RunQuery(%q, %d) through the front:\n", query, maxResults)
	var first string
	for _, c := range callers {
		res, err := c.call(ctx, root)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		got := show(res)
		switch {
		case first == "":
			first = got
			fmt.Fprintf(w, "  %-32s %s\n", c.name, got)
		case got == first:
			fmt.Fprintf(w, "  %-32s the same\n", c.name)
		default:
			return fmt.Errorf("%s answered %s, %s %s", c.name, got, callers[0].name, first)
		}
	}
	fmt.Fprintln(w, "Storage through the front:")
	for _, p := range storageProbes(root) {
		hidden, err := p.ask(hiddenName + p.rest)
		if err != nil {
			return err
		}
		unknown, err := p.ask(unknownName + p.rest)
		if err != nil {
			return err
		}
		if !sameBut(hidden, unknown) {
			return fmt.Errorf("%s: %s answers %q, the unknown %s %q", p.proto, hiddenName+p.rest, hidden, unknownName+p.rest, unknown)
		}
		fmt.Fprintf(w, "  %-32s %s: as a name that does not exist\n", p.proto+" "+hiddenName+p.rest, summary(hidden))
	}
	return nil
}

// showIndex prints the interfaces the front's index lists, and their
// methods' forms.
func showIndex(ctx context.Context, root string, w io.Writer) error {
	c := client.New()
	defer c.Close()
	idx, err := c.Get(ctx, root)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The front's index lists: %s\n", strings.Join(idx.Names(), ", "))
	for _, name := range idx.Names() {
		res, err := c.Get(ctx, root+name+"/")
		if err != nil {
			return err
		}
		r, _ := res.Any().(hyper.Resource)
		fmt.Fprintf(w, "  %s (%s)\n", name, r.Profile)
		for _, m := range res.Names() {
			f, ok := r.Content[m].(hyper.Form)
			if !ok {
				continue
			}
			var in []string
			for _, v := range f.Values {
				s := v.Name + " " + v.Type
				if v.HasDefault {
					s += fmt.Sprintf(" = %v", v.Default)
				}
				in = append(in, s)
			}
			fmt.Fprintf(w, "    %s %s(%s) -> %v\n", f.HTTPMethod(), m, strings.Join(in, ", "), f.Extra["returns"])
		}
	}
	return nil
}

func show(res search.ThingiesOfType) string {
	var s []string
	for _, t := range res.Results {
		s = append(s, t.ID+" "+t.Name)
	}
	return "{results: [" + strings.Join(s, ", ") + "]}"
}

// The interface whose methods are not public, and a name of the same
// length that does not exist.
const (
	hiddenName  = "Storage"
	unknownName = "Nothing"
)

// A probe asks the front for a name under Storage, and the same under a
// name that does not exist, one way.
type probe struct {
	proto, rest string
	ask         func(name string) ([]byte, error)
}

func storageProbes(root string) []probe {
	get := func(name string) ([]byte, error) { return post(http.MethodGet, root+name, "", "") }
	return []probe{
		{"HTTP GET", "/", get},
		{"HTTP GET", "/get", get},
		{"JSON-RPC", ".get", func(name string) ([]byte, error) {
			return post(http.MethodPost, root+"jsonrpc", "application/json", `{"jsonrpc":"2.0","id":1,"method":"`+name+`","params":["t1"]}`)
		}},
		{"XML-RPC", ".find", func(name string) ([]byte, error) {
			return post(http.MethodPost, root+"RPC2", "text/xml",
				`<?xml version="1.0"?><methodCall><methodName>`+name+`</methodName><params><param><value><array><data><value><string>red</string></value></data></array></value></param></params></methodCall>`)
		}},
	}
}

// post sends a request and returns the status and the body.
func post(method, url, contentType, body string) ([]byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return append([]byte(resp.Status+"\n"), b...), err
}

var logref = regexp.MustCompile(`[0-9a-f]{16}`)

// sameBut reports whether the answer to a Storage name is the answer to
// the unknown name, but for the name and the logrefs.
func sameBut(hidden, unknown []byte) bool {
	hidden = logref.ReplaceAll(hidden, []byte("-"))
	unknown = logref.ReplaceAll(unknown, []byte("-"))
	return bytes.Equal(hidden, bytes.ReplaceAll(unknown, []byte(unknownName), []byte(hiddenName)))
}

var message = regexp.MustCompile(`-32601|no (method|function or class) \\?"[A-Za-z./]+\\?"`)

// summary is an answer's status, and its code and message.
func summary(answer []byte) string {
	status, body, _ := bytes.Cut(answer, []byte("\n"))
	parts := []string{string(status)}
	for _, m := range message.FindAll(body, -1) {
		parts = append(parts, strings.ReplaceAll(string(m), `\"`, `"`))
	}
	return strings.Join(parts, ", ")
}
