package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its two ends: what is
// written to the terminal end can be read from the other.
func openPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal (%v): run the tests where /dev/ptmx opens", err)
	}
	t.Cleanup(func() { ptm.Close() })
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptm, tty
}

// TestFmtNewline: on a terminal the canonical bytes end with a newline;
// in a file they are exact.
func TestFmtNewline(t *testing.T) {
	ptm, tty := openPTY(t)
	var errOut bytes.Buffer
	if code := run([]string{"fmt"}, strings.NewReader("D u1:a; i1; ;"), tty, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	// The terminal turns "\n" into "\r\n".
	want := "Du1:a;i1;;\r\n"
	got := make([]byte, len(want))
	ptm.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(ptm, got); err != nil || string(got) != want {
		t.Errorf("on a terminal: read %q, %v; want %q", got, err, want)
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code := run([]string{"fmt"}, strings.NewReader("D u1:a; i1; ;"), f, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if b, err := os.ReadFile(f.Name()); err != nil || string(b) != "Du1:a;i1;;" {
		t.Errorf("in a file: %q, %v; want the canonical bytes alone", b, err)
	}
}
