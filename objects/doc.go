// Package objects is the root of glyph's shared objects: encrypted, signed,
// hash-addressed records that a local daemon keeps, shares between
// identities and syncs through persistence servers ("remotes").
//
// The tree is layered bottom up, each layer importing only those below it:
// [github.com/glyph-ipc/glyph/objects/record] defines the records and their
// crypto (pure functions, no I/O); the store keeps them; the remote and the
// daemon serve them as ordinary glyph services.
package objects
