package hyperhttp

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The page renderer: a glyph value, decoded into the types wire gives
// for any, becomes an htmlView tree, which the templates of htmlpage/
// turn into a page. Everything the page shows passes through
// html/template, so it is escaped for where it lands; the page has no
// script, and its one stylesheet is inline, allowed by its hash in the
// Content-Security-Policy.

//go:embed htmlpage/page.html htmlpage/style.css
var htmlFiles embed.FS

var (
	htmlTemplates = template.Must(template.ParseFS(htmlFiles, "htmlpage/page.html"))
	htmlStyle     = mustRead(htmlFiles, "htmlpage/style.css")
	// hdrCSP is the Content-Security-Policy of every page: nothing may
	// load or run but the page's own stylesheet, forms go to this origin
	// only, and no other site may frame it.
	hdrCSP = []string{"default-src 'none'; style-src '" + cspHash(htmlStyle) + "'; " +
		"img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}
	hdrHTML           = []string{"text/html; charset=utf-8"}
	hdrReferrerPolicy = []string{"same-origin"}
)

func mustRead(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cspHash returns the CSP source expression that allows an inline style
// element holding exactly css.
func cspHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// maxViewDepth bounds how deep a page shows a value; deeper parts are
// elided, so that a deep value cannot exhaust the template engine.
const maxViewDepth = 48

// maxBlobText is how much of a text blob inside a value a page shows.
const maxBlobText = 64 << 10

// maxPageValue bounds the encoding of a value shown as a page, blobs
// included, which is held in memory to be shown.
const maxPageValue = 16 << 20

// htmlPage is what a page template renders.
type htmlPage struct {
	Title   string
	Heading string
	Service string // the text of the link to the index
	Root    string
	Path    string
	Style   template.CSS
	Value   htmlView
	Error   *htmlError
}

// htmlError is what an error page shows.
type htmlError struct {
	Message string
	Logref  string
	Kind    string
}

// htmlView is one value as a page shows it. Kind selects the template
// branch: a scalar's kind names its glyph type (integer, unicode, ...)
// and is its element's class, glyph-KIND.
type htmlView struct {
	Kind    string
	Text    string // a scalar's text, a link's label, a resource's name
	URL     string // a link's target, a resource's own URL
	Note    string // a resource's profile, an error's logref, a blob's type
	Items   []htmlView
	Entries []htmlEntry
	Inline  *htmlView // a link's inlined value
	Form    *htmlForm
}

type htmlEntry struct{ Key, Value htmlView }

// newPage returns a page for a request, titled by the request's path.
func (h *Handler) newPage(r *http.Request) *htmlPage {
	path := r.URL.Path
	return &htmlPage{
		Title:   path,
		Heading: path,
		Service: "index",
		Root:    h.cfg.root,
		Path:    r.URL.RequestURI(),
		Style:   template.CSS(htmlStyle),
	}
}

// renderHTML renders the template name for p.
func renderHTML(name string, p any) ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&b, name, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// setHTMLHeaders sets the headers every page carries.
func setHTMLHeaders(hdr http.Header) {
	hdr["Content-Security-Policy"] = hdrCSP
	hdr["X-Content-Type-Options"] = hdrNosniff
	hdr["Referrer-Policy"] = hdrReferrerPolicy
}

// plainValue returns v as decoding its encoding into any gives it, the
// types the renderer knows, with blobs read into memory (so that a page
// can show them); the whole is bounded by maxPageValue, past which it is
// an error.
func plainValue(v any) (any, error) {
	var buf bytes.Buffer
	if err := wire.NewEncoder(&capWriter{w: &buf, n: maxPageValue}).Encode(v); err != nil {
		forEachBlob(v, func(b *wire.Blob) { b.Close() })
		if errors.As(err, new(*capError)) {
			return nil, &service.Error{Kind: service.KindTooLarge, Message: "the result is too large to show as a page; fetch it with a glyph client"}
		}
		return nil, &service.Error{Kind: service.KindInternal, Message: "cannot encode the result", Err: err}
	}
	dec := wire.NewDecoder(&buf)
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, &service.Error{Kind: service.KindInternal, Message: "cannot decode the result", Err: err}
	}
	if err := dec.Finish(); err != nil {
		return nil, &service.Error{Kind: service.KindInternal, Message: "cannot decode the result", Err: err}
	}
	return out, nil
}

// capWriter fails once more than n bytes were written.
type capWriter struct {
	w io.Writer
	n int64
}

type capError struct{}

func (*capError) Error() string { return "over the size limit" }

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.n {
		return 0, &capError{}
	}
	c.n -= int64(len(p))
	return c.w.Write(p)
}

// viewOf returns the view of a decoded glyph value. label names the
// value where it is listed (a dict key), for links and forms.
func viewOf(v any, label string, depth int) htmlView {
	if depth > maxViewDepth {
		return htmlView{Kind: "note", Text: "…"}
	}
	switch x := v.(type) {
	case nil:
		return htmlView{Kind: "nil", Text: "nil"}
	case bool:
		return htmlView{Kind: strconv.FormatBool(x), Text: strconv.FormatBool(x)}
	case int64:
		return htmlView{Kind: "integer", Text: strconv.FormatInt(x, 10)}
	case *big.Int:
		return htmlView{Kind: "integer", Text: x.String()}
	case float64:
		return htmlView{Kind: "float", Text: strconv.FormatFloat(x, 'g', -1, 64)}
	case string:
		return htmlView{Kind: "unicode", Text: x}
	case []byte:
		return htmlView{Kind: "bytearray", Text: hex.EncodeToString(x)}
	case time.Time:
		return htmlView{Kind: "time", Text: x.Format(time.RFC3339Nano)}
	case time.Duration:
		return htmlView{Kind: "timedelta", Text: x.String()}
	case wire.Period:
		return htmlView{Kind: "timedelta", Text: x.String()}
	case []any:
		return htmlView{Kind: "list", Items: viewsOf(x, depth)}
	case wire.Set[any]:
		items := make([]any, 0, len(x))
		for it := range x {
			items = append(items, it)
		}
		return htmlView{Kind: "set", Items: viewsOf(canonicalOrder(items), depth)}
	case wire.AnySet:
		return htmlView{Kind: "set", Items: viewsOf(x.Items, depth)}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		es := make([]htmlEntry, len(keys))
		for i, k := range keys {
			es[i] = htmlEntry{Key: htmlView{Kind: "unicode", Text: k}, Value: viewOf(x[k], k, depth+1)}
		}
		return htmlView{Kind: "dict", Entries: es}
	case wire.Dict:
		return htmlView{Kind: "dict", Entries: entriesOf(x.Entries, depth)}
	case *wire.OrderedDict:
		return htmlView{Kind: "dict", Entries: entriesOf(x.Entries(), depth)}
	case hyper.Link:
		if label == "" {
			label = x.URL
		}
		lv := htmlView{Kind: "link", Text: label, URL: x.URL}
		if x.Inline {
			in := viewOf(x.Content, "", depth+1)
			lv.Inline = &in
		}
		return lv
	case hyper.Form:
		return htmlView{Kind: "form", Form: formOf(x, label)}
	case hyper.Resource:
		return htmlView{Kind: "resource", Text: x.Name, URL: x.URL, Note: x.Profile, Entries: mapEntries(x.Content, depth)}
	case hyper.Error:
		return htmlView{Kind: "error", Text: x.Message, Note: x.Logref, Entries: mapEntries(x.Content, depth)}
	case hyper.Collection:
		return htmlView{Kind: "list", Items: viewsOf(x.Items, depth)}
	case hyper.Input:
		return htmlView{Kind: "note", Text: "input " + x.Name}
	case wire.Extension:
		ev := htmlView{Kind: "extension", Text: x.Name, Items: []htmlView{viewOf(x.Content, "", depth+1)}}
		if x.Attrs != nil {
			ev.Entries = entriesOf(x.Attrs.Entries(), depth)
		}
		return ev
	case *wire.Blob:
		return blobView(x)
	}
	return htmlView{Kind: "note", Text: fmt.Sprintf("%T", v)}
}

func viewsOf(items []any, depth int) []htmlView {
	out := make([]htmlView, len(items))
	for i, it := range items {
		out[i] = viewOf(it, "", depth+1)
	}
	return out
}

func entriesOf(es []wire.Entry, depth int) []htmlEntry {
	out := make([]htmlEntry, len(es))
	for i, e := range es {
		label, _ := e.Key.(string)
		out[i] = htmlEntry{Key: viewOf(e.Key, "", depth+1), Value: viewOf(e.Value, label, depth+1)}
	}
	return out
}

// mapEntries lists the content of a resource or error: data first, then
// links and forms (the methods), each group by name.
func mapEntries(m map[string]any, depth int) []htmlEntry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	isMethod := func(k string) bool {
		switch m[k].(type) {
		case hyper.Link, hyper.Form:
			return true
		}
		return false
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ma, mb := isMethod(a), isMethod(b); ma != mb {
			if ma {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	out := make([]htmlEntry, len(keys))
	for i, k := range keys {
		out[i] = htmlEntry{Key: htmlView{Kind: "unicode", Text: k}, Value: viewOf(m[k], k, depth+1)}
	}
	return out
}

// canonicalOrder sorts set items by their encoding, the order the
// encoder writes them in, so that a page is the same for equal values.
func canonicalOrder(items []any) []any {
	enc := make([][]byte, len(items))
	for i, it := range items {
		enc[i], _ = wire.Marshal(it)
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return wire.CompareKeys(enc[idx[a]], enc[idx[b]]) < 0 })
	out := make([]any, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

// blobView shows a blob's type and size, and its text when it is a
// short text.
func blobView(b *wire.Blob) htmlView {
	defer b.Close()
	data, err := io.ReadAll(io.LimitReader(b, maxBlobText+1))
	if err != nil {
		return htmlView{Kind: "blob", Note: blobType(b) + ", unreadable"}
	}
	v := htmlView{Kind: "blob", Note: blobType(b)}
	switch {
	case len(data) > maxBlobText:
		v.Note += fmt.Sprintf(", over %d bytes", maxBlobText)
	default:
		v.Note += fmt.Sprintf(", %d bytes", len(data))
		if strings.HasPrefix(blobType(b), "text/") && utf8.Valid(data) {
			v.Text = string(data)
		}
	}
	return v
}
