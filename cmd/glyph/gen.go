package main

import (
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/internal/componentgen"
	"github.com/spf13/cobra"
)

func newGenCommand() *cobra.Command {
	var dir, output string
	cmd := &cobra.Command{
		Use:   "gen INTERFACE...",
		Short: "Write typed stubs for component interfaces (for go:generate)",
		Long: `gen writes, for each named Go interface of the package in the current
directory (or --dir), a remote stub that calls the interface's providers
through a component.Router and a local stub that calls an implementation
in the same process, and registers them, so that component.Dial returns a
value of the interface itself. Stubs are optional: a struct of funcs
bound with Router.Bind needs none. The output (glyph_gen.go by default)
holds a compile-time check: once the interface changes, the build fails
on an identifier that says to regenerate with glyph gen.

Run it from a go:generate line beside the interface:

	//go:generate go run github.com/glyph-ipc/glyph/cmd/glyph gen Search`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			src, err := componentgen.Generate(dir, args, filepath.Base(output))
			if err != nil {
				return err
			}
			out := output
			if !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			return os.WriteFile(out, src, 0o644)
		}),
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "the package's directory")
	cmd.Flags().StringVarP(&output, "output", "o", componentgen.DefaultOutput, "the file to write, in the package's directory")
	return cmd
}
