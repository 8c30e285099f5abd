package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/spf13/cobra"
)

func newShowCommand() *cobra.Command {
	var full bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print one hyperglyph message from stdin for a person",
		Long: `show reads one hyperglyph message on stdin and prints it for a person: one
value per line, each with its glyph type, collections indented below their
header. Dict and set entries appear in canonical order (the order glyph fmt
writes them in); lists and ordered dicts keep theirs. Dict keys, extension
attributes and blob attributes are written inline in a compact notation:
"text" is unicode, 12 an integer, 1.5 a float, [..] a list, {..} a dict,
set{..} and ordered_dict{..} the other collections, and the remaining types
are spelled out as they are on their own line.

Unicode longer than 64 bytes and byte strings longer than 32 bytes are cut
short ("…" and the full length follow) unless --full is given; the url
attributes of links, forms and resources never are. Blobs are
read to count their bytes; their content is not printed.`,
		Example: `  printf 'Du1:a;Li1;u1:x;;;' | glyph show`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return showMessage(cmd.InOrStdin(), cmd.OutOrStdout(), full)
		}),
	}
	cmd.Flags().BoolVar(&full, "full", false, "print long strings and byte strings in full")
	return cmd
}

// showMessage reads one message from r and prints it to w. Nothing is
// written unless the whole message is valid.
func showMessage(r io.Reader, w io.Writer, full bool) error {
	in := newMessageInput(r)
	defer in.close()
	v, err := in.decode()
	if err != nil {
		return err
	}
	p := newPrinter(full)
	p.block(0, "", v)
	if p.err != nil {
		return p.err
	}
	if err := in.end(); err != nil {
		return err
	}
	_, err = w.Write(p.out.Bytes())
	return err
}

// Abbreviation limits of show without --full.
const (
	maxShownString = 64 // bytes of a unicode value
	maxShownBytes  = 32 // bytes of a bytearray, printed in hex
)

// printer renders decoded glyph values, as produced by decoding into an
// any, for a person.
type printer struct {
	full      bool
	endpoint  string // the peer endpoint of path URLs; "" for none
	out       bytes.Buffer
	blobSizes map[*wire.Blob]int64 // blobs already read, so each is read once
	err       error                // first failure reading a blob
}

func newPrinter(full bool) *printer {
	return &printer{full: full, blobSizes: map[*wire.Blob]int64{}}
}

// block prints v on its own line, after depth levels of indentation and
// label, and its items or entries on the lines below, one level deeper.
func (p *printer) block(depth int, label string, v any) {
	v = plain(v)
	for range depth {
		p.out.WriteString("  ")
	}
	p.out.WriteString(label)
	p.out.WriteString(p.header(v))
	p.out.WriteByte('\n')
	switch v := v.(type) {
	case []any:
		for _, it := range v {
			p.block(depth+1, "", it)
		}
	case wire.Set[any]:
		for _, it := range p.sorted(setItems(v)) {
			p.block(depth+1, "", it)
		}
	case wire.AnySet:
		for _, it := range p.sorted(v.Items) {
			p.block(depth+1, "", it)
		}
	case map[string]any, map[any]any, wire.Dict:
		for _, e := range p.sortedEntries(dictEntries(v)) {
			p.block(depth+1, p.compact(e.Key)+": ", e.Value)
		}
	case *wire.OrderedDict:
		for _, e := range v.Entries() {
			p.block(depth+1, p.compact(e.Key)+": ", e.Value)
		}
	case wire.Extension:
		if v.Content != nil {
			p.block(depth+1, "content: ", v.Content)
		}
	}
}

// header is the line that stands for v: its type and, for scalars, its
// value; for collections, their size.
func (p *printer) header(v any) string {
	switch v := plain(v).(type) {
	case nil:
		return "nil"
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return "integer " + strconv.FormatInt(v, 10)
	case *big.Int:
		return "integer " + v.String()
	case float64:
		return "float " + formatFloat(v)
	case string:
		return "unicode " + p.quote(v)
	case []byte:
		return "bytearray " + p.hexBytes(v)
	case time.Time:
		return "datetime " + v.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return "timedelta " + wire.Period{Duration: v}.String() + " (" + v.String() + ")"
	case wire.Period:
		return "timedelta " + v.String()
	case []any:
		return "list (" + count(len(v), "item", "items") + ")"
	case wire.Set[any]:
		return "set (" + count(len(v), "item", "items") + ")"
	case wire.AnySet:
		return "set (" + count(len(v.Items), "item", "items") + ")"
	case map[string]any, map[any]any, wire.Dict:
		return "dict (" + count(len(dictEntries(v)), "entry", "entries") + ")"
	case *wire.OrderedDict:
		return "ordered_dict (" + count(v.Len(), "entry", "entries") + ")"
	case wire.Extension:
		return "extension " + bareOrQuoted(v.Name) + " " + p.attrs(v)
	case *wire.Blob:
		s := "blob " + contentType(v.ContentType) + ", " + count64(p.blobSize(v), "byte", "bytes")
		if len(v.Attrs) > 0 {
			s += " " + p.blobAttrs(v)
		}
		return s
	}
	// Decoding into any yields none of these, unless an extension
	// type was registered.
	return fmt.Sprintf("%s %v", wire.TypeName(v), v)
}

// compact renders v on one line, for dict keys and attributes.
func (p *printer) compact(v any) string {
	v = plain(v)
	switch v := v.(type) {
	case nil:
		return "nil"
	case int64:
		return strconv.FormatInt(v, 10)
	case *big.Int:
		return v.String()
	case float64:
		return formatFloat(v)
	case string:
		return p.quote(v)
	case []any:
		return "[" + p.compactItems(v) + "]"
	case wire.Set[any]:
		return "set{" + p.compactItems(p.sorted(setItems(v))) + "}"
	case wire.AnySet:
		return "set{" + p.compactItems(p.sorted(v.Items)) + "}"
	case map[string]any, map[any]any, wire.Dict:
		return "{" + p.compactEntries(p.sortedEntries(dictEntries(v)), false) + "}"
	case *wire.OrderedDict:
		return "ordered_dict{" + p.compactEntries(v.Entries(), false) + "}"
	case wire.Extension:
		s := p.header(v)
		if v.Content != nil {
			s += " content " + p.compact(v.Content)
		}
		return s
	}
	return p.header(v)
}

func (p *printer) compactItems(items []any) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = p.compact(it)
	}
	return strings.Join(parts, ", ")
}

// compactEntries renders entries as k: v pairs; bare writes string keys
// that look like identifiers without quotes, as attribute names. A url
// attribute is never cut short: it is where a link or form leads.
func (p *printer) compactEntries(entries []wire.Entry, bare bool) string {
	parts := make([]string, len(entries))
	for i, e := range entries {
		k := p.compact(e.Key)
		v := ""
		if s, ok := e.Key.(string); ok && bare {
			k = bareOrQuoted(s)
			if u, ok := e.Value.(string); ok && s == "url" {
				if p.endpoint != "" && strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
					u = p.endpoint + "#" + u // a peer URL, which glyph get and call take
				}
				v = strconv.Quote(u)
			}
		}
		if v == "" {
			v = p.compact(e.Value)
		}
		parts[i] = k + ": " + v
	}
	return strings.Join(parts, ", ")
}

// attrs renders an extension's attributes: {..} in canonical order for a
// dict, ordered_dict{..} in wire order for an ordered dict.
func (p *printer) attrs(x wire.Extension) string {
	entries := x.Attrs.Entries()
	if x.Ordered {
		return "ordered_dict{" + p.compactEntries(entries, true) + "}"
	}
	return "{" + p.compactEntries(p.sortedEntries(entries), true) + "}"
}

func (p *printer) blobAttrs(b *wire.Blob) string {
	entries := make([]wire.Entry, 0, len(b.Attrs))
	for k, v := range b.Attrs {
		entries = append(entries, wire.Entry{Key: k, Value: v})
	}
	return "{" + p.compactEntries(p.sortedEntries(entries), true) + "}"
}

// blobSize reads b to its end and returns how many bytes it held.
func (p *printer) blobSize(b *wire.Blob) int64 {
	if n, ok := p.blobSizes[b]; ok {
		return n
	}
	n, err := io.Copy(io.Discard, b)
	if err != nil && p.err == nil {
		p.err = err
	}
	p.blobSizes[b] = n
	return n
}

// quote renders a unicode value as a Go string literal, cut short unless
// the printer shows values in full.
func (p *printer) quote(s string) string {
	if p.full || len(s) <= maxShownString {
		return strconv.Quote(s)
	}
	cut := maxShownString
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "… (" + count(len(s), "byte", "bytes") + ")"
}

// hexBytes renders a byte string in hex followed by its length, cut short
// unless the printer shows values in full.
func (p *printer) hexBytes(b []byte) string {
	n := " (" + count(len(b), "byte", "bytes") + ")"
	if len(b) == 0 {
		return n[1:]
	}
	if p.full || len(b) <= maxShownBytes {
		return hex.EncodeToString(b) + n
	}
	return hex.EncodeToString(b[:maxShownBytes]) + "…" + n
}

// sortKey orders dict keys and set items the way the wire encoder writes
// them. Values holding blobs cannot be encoded without reading the blob;
// they sort after all others, by how they print.
type sortKey struct {
	enc  []byte // canonical encoding; nil for values holding blobs
	text string // compact rendering, for values holding blobs
}

func (p *printer) sortKeyOf(v any) sortKey {
	if !holdsBlob(v) {
		if enc, err := wire.Marshal(v); err == nil {
			return sortKey{enc: enc}
		}
	}
	return sortKey{text: p.compact(v)}
}

func compareSortKeys(a, b sortKey) int {
	switch {
	case a.enc != nil && b.enc != nil:
		return wire.CompareKeys(a.enc, b.enc)
	case a.enc != nil:
		return -1
	case b.enc != nil:
		return 1
	}
	return strings.Compare(a.text, b.text)
}

func (p *printer) sorted(items []any) []any {
	keys := make([]sortKey, len(items))
	idx := make([]int, len(items))
	for i, it := range items {
		keys[i] = p.sortKeyOf(it)
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return compareSortKeys(keys[a], keys[b]) })
	out := make([]any, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

func (p *printer) sortedEntries(entries []wire.Entry) []wire.Entry {
	byKey := make([]sortKey, len(entries))
	idx := make([]int, len(entries))
	for i, e := range entries {
		byKey[i] = p.sortKeyOf(e.Key)
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return compareSortKeys(byKey[a], byKey[b]) })
	out := make([]wire.Entry, len(entries))
	for i, j := range idx {
		out[i] = entries[j]
	}
	return out
}

// holdsBlob reports whether v is or contains a blob.
func holdsBlob(v any) bool {
	switch v := plain(v).(type) {
	case *wire.Blob:
		return true
	case []any:
		return slices.ContainsFunc(v, holdsBlob)
	case wire.AnySet:
		return slices.ContainsFunc(v.Items, holdsBlob)
	case map[string]any, map[any]any, wire.Dict:
		for _, e := range dictEntries(v) {
			if holdsBlob(e.Key) || holdsBlob(e.Value) {
				return true
			}
		}
	case *wire.OrderedDict:
		for _, e := range v.Entries() {
			if holdsBlob(e.Key) || holdsBlob(e.Value) {
				return true
			}
		}
	case wire.Extension:
		for _, e := range v.Attrs.Entries() {
			if holdsBlob(e.Key) || holdsBlob(e.Value) {
				return true
			}
		}
		return holdsBlob(v.Content)
	}
	return false
}

// plain returns the value a typed extension, such as a link or a form
// from package hyper, encodes as: the printer shows what is on the wire.
// Importing hyper makes the decoder return those types for their
// extensions; without the conversion they would print as Go values.
func plain(v any) any {
	if m, ok := v.(wire.Marshaler); ok {
		if x, err := m.MarshalGlyph(); err == nil {
			return x
		}
	}
	return v
}

// dictEntries returns the entries of any of the Go forms a decoded dict
// takes, in no particular order.
func dictEntries(v any) []wire.Entry {
	switch v := v.(type) {
	case map[string]any:
		out := make([]wire.Entry, 0, len(v))
		for k, x := range v {
			out = append(out, wire.Entry{Key: k, Value: x})
		}
		return out
	case map[any]any:
		out := make([]wire.Entry, 0, len(v))
		for k, x := range v {
			out = append(out, wire.Entry{Key: k, Value: x})
		}
		return out
	case wire.Dict:
		return v.Entries
	}
	return nil
}

func setItems(s wire.Set[any]) []any {
	out := make([]any, 0, len(s))
	for it := range s {
		out = append(out, it)
	}
	return out
}

// formatFloat writes a float so that it cannot be mistaken for an integer:
// 1.0, -0.0, 0.5, 1e+100, inf, -inf, nan.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// bareOrQuoted writes names (extension names and attribute keys) without
// quotes when they look like identifiers and cannot be read as another
// literal.
func bareOrQuoted(s string) string {
	switch s {
	case "", "nil", "true", "false", "inf", "nan", "set", "ordered_dict":
		return strconv.Quote(s)
	}
	for i, c := range s {
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c != '-' && (c < '0' || c > '9')) {
			return strconv.Quote(s)
		}
	}
	return s
}

// contentType prints a blob's content type as is when it is printable.
func contentType(ct string) string {
	if q := strconv.Quote(ct); q[1:len(q)-1] == ct && !strings.Contains(ct, ",") {
		return ct
	}
	return strconv.Quote(ct)
}

func count(n int, one, many string) string { return count64(int64(n), one, many) }

func count64(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
