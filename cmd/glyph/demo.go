package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// A demoPart is one chapter of the tour glyph demo gives. Each part checks
// what it shows and returns an error when the system and the explanation
// disagree, so the demo doubles as a smoke test of a fresh checkout.
type demoPart struct {
	name  string // selects the part on the command line: glyph demo encoding
	title string
	run   func(w io.Writer) error
}

// demoParts is the tour, in order. New capabilities add a part here.
var demoParts = []demoPart{
	{name: "encoding", title: "The hyperglyph encoding", run: demoEncoding},
}

func newDemoCommand() *cobra.Command {
	names := make([]string, len(demoParts))
	for i, part := range demoParts {
		names[i] = part.name
	}
	return &cobra.Command{
		Use:   "demo [part...]",
		Short: "A tour of glyph that checks itself as it goes",
		Long: `demo walks through what glyph does, printing each step and checking its
result. It exits with status 1 if any check fails. With no arguments it
runs every part; parts: ` + strings.Join(names, ", ") + `.`,
		ValidArgs: names,
		Args:      cobra.OnlyValidArgs,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.OutOrStdout(), args)
		}),
	}
}

// runDemo runs the named parts, or all of them, and fails if any fails.
func runDemo(w io.Writer, names []string) error {
	var failed []string
	for _, part := range demoParts {
		if len(names) > 0 && !slices.Contains(names, part.name) {
			continue
		}
		fmt.Fprintf(w, "== %s ==\n\n", part.title)
		if err := part.run(w); err != nil {
			fmt.Fprintf(w, "\nFAILED: %v\n\n", err)
			failed = append(failed, part.name)
			continue
		}
		fmt.Fprintln(w)
	}
	if len(failed) > 0 {
		return fmt.Errorf("demo failed: %s", strings.Join(failed, ", "))
	}
	return nil
}
