// Package wire is glyph's value model and its hyperglyph 1.0 encoding.
//
// Everything glyph sends, over HTTP or between peers, is a glyph value
// encoded as hyperglyph: a small, self-delimiting text-like format with a
// one-letter type tag per value (`i123;`, `u3:foo;`, `Li1;i2;;`, ...).
// spec.md beside this file states the format with examples; the tests
// check every example byte for byte.
//
// # Values
//
// Marshal and Unmarshal convert between Go values and encoded messages,
// like encoding/json: struct fields become dict entries (tag `glyph`),
// slices become lists, maps dicts, and so on. Types Go lacks have their
// own Go types here: Set and AnySet, OrderedDict, Dict (dicts whose keys Go
// maps cannot hold), Period (timedeltas with years and months), Blob and
// Extension. Higher packages register typed extensions (links, forms, ...)
// with RegisterExtension. UnmarshalPrefix decodes a value that is only
// the start of its input, for callers that scan a message themselves.
//
// The encoding is canonical: dicts and sets are written in a fixed order,
// strings in Unicode NFC, so equal values give equal bytes (servers use
// this for ETags).
//
// # Streams and blobs
//
// Encoder and Decoder work on streams, one message per call, so messages
// can be pipelined on one connection. Blobs are binary content of any size:
// the encoder reads each blob's io.Reader in chunks after the root object,
// and the decoder hands out a *Blob that reads the chunks as they arrive,
// spooling to memory and then to an unlinked temporary file when blobs are
// read out of order.
//
// # Hostile input
//
// Decoders never panic on input and are bounded by Limits (message size,
// depth, items per collection, string length, integer digits, number and
// size of blobs); errors say what was found, what was expected and at
// which byte.
//
// Decoding takes time linear in the input, however deep it nests: the
// time per input byte is bounded whatever the input. That includes the
// duplicate checks of sets and dict keys (two items or keys are
// duplicates when they are the same glyph value, spec.md 3.5), which
// compare values Go cannot compare, such as lists and dicts, by digests
// of their canonical encodings: every collection in a message is
// digested a bounded number of times, rather than encoded again for every
// set around it, and a duplicate ends decoding where it is found.
// Decoding into Go types writes what they hold and the input may lack
// (struct fields left zero, which the checks encode too), so there the
// bound grows with the size of those types as well.
package wire
