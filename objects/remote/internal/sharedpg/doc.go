// Package sharedpg holds the tests of several remotes in front of one
// PostgreSQL database (package objects/remote over
// [github.com/glyph-ipc/glyph/objects/store/pgstore]), apart from the
// remote's own tests so that only these start a PostgreSQL server.
package sharedpg
