// Package glyphjson maps glyph values to JSON and back, losslessly, for
// clients that speak JSON rather than hyperglyph: curl, browsers, other
// languages. hyperhttp answers JSON with it to requests that ask for
// application/json, and reads JSON request bodies with it.
//
// The common case reads as the JSON a person would write: null, true and
// false, integers and floats as numbers (a float always with a fraction or
// an exponent, so 1.0 stays a float), strings, lists as arrays, and dicts
// with string keys (records, a resource's data) as objects. Every other
// glyph value is a tagged value, an object whose first key starts with
// "$": {"$bytearray":"AP8="}, {"$set":[1,2]}, {"$datetime":"..."},
// {"$integer":"18446744073709551616"} beyond 2^53, and the hypermedia
// extensions by their names, {"$link":{"method":"GET","url":"/foo"}}, so
// a JSON client still finds the links and forms it may follow. A dict key
// that starts with "$" is written with one more "$". spec.md beside this
// file states the mapping with examples that the tests check byte for
// byte both ways.
//
// [Marshal] writes deterministic JSON (equal glyph values give equal
// bytes); [Unmarshal] and a [Decoder] read it into any Go value that
// [wire.Unmarshal] would decode the same glyph value into, bounded by
// [wire.Limits].
package glyphjson
