// Package testneed ends a test that needs something from outside the
// module (a program, a server, a privilege) which this machine lacks. The
// test skips with one line saying how to get it, except under CI=true,
// where it fails: CI installs what the tests need and must run them all.
package testneed

import (
	"os"
	"testing"
)

// Missing ends the test t for want of something: missing says what is
// missing ("nginx is not installed"), and how says how to get it
// ("apt-get install nginx"). It skips t, or fails it when the environment
// variable CI is "true".
func Missing(t testing.TB, missing, how string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI needs it: %s", missing, how)
	}
	t.Skipf("%s; to run this test: %s", missing, how)
}
