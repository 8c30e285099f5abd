package main

import (
	"bufio"
	"io"
	"os"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newFmtCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "fmt",
		Short: "Re-encode one hyperglyph message from stdin canonically",
		Long: `fmt reads one hyperglyph message on stdin and writes its canonical encoding
to stdout: no whitespace, no leading zeros, dicts and sets sorted, unicode
in NFC, blobs re-chunked. Blob content streams through without being held
in memory. Only whitespace may follow the message.

On invalid input fmt exits with status 1 and names the byte offset of the
problem; what it wrote to stdout by then is incomplete.

The canonical bytes are all fmt writes to a pipe or a file. On a terminal
a newline follows them, so that the shell's prompt starts on a line of its
own.`,
		Example: `  printf 'D u1:b; i+0002; u1:a; i1; ;' | glyph fmt     # Du1:a;i1;u1:b;i2;;`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if err := formatMessage(cmd.InOrStdin(), out); err != nil {
				return err
			}
			if isTerminal(out) {
				_, err := io.WriteString(out, "\n")
				return err
			}
			return nil
		}),
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// formatMessage copies one message from r to w in canonical form.
func formatMessage(r io.Reader, w io.Writer) error {
	in := newMessageInput(r)
	defer in.close()
	v, err := in.decode()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := wire.NewEncoder(bw).Encode(v); err != nil {
		return err
	}
	if err := in.end(); err != nil {
		return err
	}
	return bw.Flush()
}
