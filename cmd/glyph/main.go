// Command glyph is the command-line tool of the glyph project.
//
// Usage:
//
//	glyph fmt                    re-encode one message from stdin canonically
//	glyph show [--full]          print one message from stdin for a person
//	glyph get [--json] URL       fetch a hyperglyph page and print it (as JSON)
//	glyph call URL NAME [ARG]... call a form or follow a link found on a page (--json: print JSON)
//	glyph health URL [SERVICE]   the health of a service: SERVING (exit 0) or not (exit 3); --watch follows it
//	glyph demo [part]            the walkthrough (or another part of the tour), checking itself
//	glyph gen INTERFACE...       write typed stubs for component interfaces (go:generate)
//	glyph remote --store STORE   serve a persistence server for shared objects
//	glyph run [FILE]             run a deployment (deploy.yaml): start, supervise, stop its processes
//	glyph status                 the processes of a running deployment
//	glyph logs [-f] [PROCESS]    their output
//	glyph restart PROCESS        restart one
//	glyph completion SHELL       a completion script for bash, zsh, fish or powershell
//	glyph version                print the version and the VCS revision
//
// The URL of get and call is http:// or https://, or a peer URL: ws://,
// wss://, tcp:// or unix://, optionally followed by #PATH.
//
// Exit status is 0 on success, 1 when the command fails (for example on
// invalid input) and 2 on a usage error; glyph health exits with 3 when the
// service is not SERVING.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// run executes the command line args (without the program name) and
// returns the exit status. It is main without the process: tests call it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var es *exitStatus
	if errors.As(err, &es) {
		return es.code
	}
	var ue *usageError
	var ce *commandError
	if errors.As(err, &ue) && errors.As(err, &ce) {
		fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", ce.cmd, ue.msg, ce.cmd)
		return exitUsage
	}
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "%s: %s\n", ce.cmd, describeError(ce.err))
		return exitFailure
	}
	// Anything else comes from parsing the command line.
	fmt.Fprintf(stderr, "glyph: %v\nRun 'glyph --help' for usage.\n", err)
	return exitUsage
}

// commandError is a failure of a command that ran, as opposed to a command
// line that could not be parsed.
type commandError struct {
	cmd string // "glyph fmt"
	err error
}

func (e *commandError) Error() string { return e.cmd + ": " + e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// usageError is a command line that a command's own checks found wrong,
// after cobra parsed it: exit status 2, as for cobra's own findings.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// runE adapts a command body so that its errors are reported as failures
// of that command (exit status 1) rather than usage errors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return &commandError{cmd: cmd.CommandPath(), err: err}
		}
		return nil
	}
}

// describeError renders err for a person. The wire package prefixes its
// errors with "glyph: ", which the command name already says.
func describeError(err error) string {
	if se, ok := err.(*wire.SyntaxError); ok {
		return fmt.Sprintf("syntax error at byte %d: %s", se.Offset, se.Msg)
	}
	return strings.TrimPrefix(err.Error(), "glyph: ")
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "glyph",
		Short: "glyph: duck-typed inter-process communication for Go",
		Long: `glyph is duck-typed inter-process communication for Go, built on the
hyperglyph 1.0 encoding. This tool inspects and canonicalises hyperglyph
messages, browses and calls hyperglyph services, and gives a tour of the
system.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(newFmtCommand(), newShowCommand(), newGetCommand(), newCallCommand(), newHealthCommand(), newDemoCommand(), newGenCommand(), newRemoteCommand(), newHubCommand(), newObjCommand(), newRunCommand(), newStatusCommand(), newLogsCommand(), newRestartCommand(), newVersionCommand(), newExampleSearchCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of glyph, its VCS revision and the Go it was built with",
		Long: `version prints the module version of glyph, the Go version and platform
it was built with, and, when the build recorded it, the VCS revision, its
time and whether the checkout had changes: what go version -m says of the
binary. A build from a git checkout records the revision unless
-buildvcs=false was given (go build and go install record it by default);
go install of a released version names that version.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			_, err := io.WriteString(cmd.OutOrStdout(), versionText(bi))
			return err
		}),
	}
}

// versionText describes a build: the module version, the Go version and
// platform, and the VCS revision when bi records one. bi may be nil.
func versionText(bi *debug.BuildInfo) string {
	version := "(devel)"
	settings := map[string]string{}
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "glyph %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	switch rev := settings["vcs.revision"]; {
	case rev != "":
		var about []string
		if t := settings["vcs.time"]; t != "" {
			about = append(about, t)
		}
		if settings["vcs.modified"] == "true" {
			about = append(about, "modified")
		}
		fmt.Fprintf(&b, "%s revision %s", settings["vcs"], rev)
		if len(about) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(about, ", "))
		}
		b.WriteByte('\n')
	case version == "(devel)":
		b.WriteString("revision unknown: built without VCS information (-buildvcs=false, or not from a checkout)\n")
	}
	return b.String()
}
