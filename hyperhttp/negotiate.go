package hyperhttp

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// representation is the form a response takes, chosen per request from
// its Accept header by [negotiate].
type representation uint8

const (
	// representationGlyph is the hyperglyph encoding, the default and the
	// canonical form.
	representationGlyph representation = iota
	// representationJSON is the JSON mapping of glyph values.
	representationJSON
	// representationHTML is a page for people.
	representationHTML
)

// Media types the handler offers besides [MediaType].
const (
	mediaJSON = "application/json"
	mediaHTML = "text/html"
)

// offers lists the representations in the server's order of preference,
// which breaks ties of quality and specificity: hyperglyph first, so a
// client that accepts anything (curl's */*) gets the canonical form.
var offers = [...]struct {
	rep   representation
	media string
	major string // the type before the slash, for major/* ranges
}{
	{representationGlyph, MediaType, "application"},
	{representationJSON, mediaJSON, "application"},
	{representationHTML, mediaHTML, "text"},
}

// negotiate returns the representation a request asks for: the offer
// with the highest quality in its Accept header (RFC 9110 §12.5.1), a
// more specific range winning over a wildcard of the same quality, and
// the server's preference breaking the remaining ties. No Accept header,
// one that matches none of the offers, and what glyph's own client sends
// all get hyperglyph: a client is never refused for its Accept header.
func negotiate(r *http.Request) representation {
	lines := r.Header["Accept"]
	if len(lines) == 0 || (len(lines) == 1 && isGlyphAccept(lines[0])) {
		return representationGlyph
	}
	type score struct {
		q    float64
		spec int // 0 none, 1 */*, 2 major/*, 3 exact
	}
	var best [len(offers)]score
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			major, minor, _ := strings.Cut(mt, "/")
			for i, o := range offers {
				spec := 0
				switch {
				case mt == o.media:
					spec = 3
				case minor == "*" && major == o.major:
					spec = 2
				case mt == "*/*":
					spec = 1
				}
				if spec > best[i].spec {
					// The most specific range that matches an offer
					// decides its quality (RFC 9110 §12.5.1).
					best[i] = score{q: q, spec: spec}
				}
			}
		}
	}
	chosen, chosenQ, chosenSpec := representationGlyph, 0.0, 0
	for i, o := range offers {
		b := best[i]
		if b.spec == 0 || b.q <= 0 {
			continue
		}
		if b.q > chosenQ || (b.q == chosenQ && b.spec > chosenSpec) {
			chosen, chosenQ, chosenSpec = o.rep, b.q, b.spec
		}
	}
	return chosen
}

// isGlyphAccept reports whether an Accept line is one that asks for
// hyperglyph first, as glyph's own client and the reference client send
// it, so that their requests skip parsing.
func isGlyphAccept(line string) bool {
	return line == MediaType || strings.HasPrefix(line, MediaType+",") || line == "*/*"
}
