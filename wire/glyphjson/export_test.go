package glyphjson

// Transcode writes the JSON of a canonical hyperglyph message as Marshal
// does for the values wire encodes for it, so that tests can hold it to
// Marshal's output for generic values.
func Transcode(b []byte) ([]byte, error) {
	t := transcoder{in: b}
	if err := t.value(); err != nil {
		return nil, err
	}
	if t.pos != len(b) {
		return nil, errNotCanonical
	}
	return t.out, nil
}
