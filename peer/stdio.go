package peer

import (
	"os"
)

// Stdio returns a [FrameConn] over the process's standard input and output,
// for a peer started as a child process; frames are limited to
// [DefaultMaxFrameSize]. Close closes both.
func Stdio() FrameConn {
	return NewStreamConn(stdio{}, 0)
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error {
	err := os.Stdout.Close()
	if err2 := os.Stdin.Close(); err == nil {
		err = err2
	}
	return err
}
