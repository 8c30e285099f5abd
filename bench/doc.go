// Package bench compares the glyph wire codec (hyperglyph) with
// encoding/json, github.com/vmihailenco/msgpack/v5 and
// github.com/fxamacker/cbor/v2. Everything lives in the _test.go files; see
// README.md for what is measured and the latest results.
//
// It is a separate module so that the main module does not depend on the
// libraries it is compared with.
package bench
