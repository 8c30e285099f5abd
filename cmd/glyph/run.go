package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/supervisor"
	"github.com/spf13/cobra"
)

const defaultDeployFile = "deploy.yaml"

func newRunCommand() *cobra.Command {
	var reload bool
	cmd := &cobra.Command{
		Use:   "run [--reload] [FILE]",
		Short: "Run a deployment: start, supervise and stop its component processes",
		Long: `run reads a deployment file (deploy.yaml by default; its format is
component/deploy/spec.md), starts every process it describes, each once the
processes it uses are ready, and supervises them until interrupted: a
process that exits is restarted with exponential backoff (FATAL after its
start limit), one that stops answering its health checks is killed and
restarted, and their output is shown here, each line prefixed with its
process. SIGINT or SIGTERM stops everything in order, dependants first.

A changed file is applied without restarting what did not change: send
SIGHUP to glyph run, or run glyph run --reload FILE. glyph status, glyph
logs and glyph restart talk to the running supervisor.`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			file := deployFile(args)
			if reload {
				ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
				defer cancel()
				if err := controlCall(ctx, file, true, "reload", nil, nil); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "reloaded", file)
				return nil
			}
			return runDeployment(cmd, file)
		}),
	}
	cmd.Flags().BoolVar(&reload, "reload", false, "apply the changed file to the supervisor that runs it, instead of running it")
	return cmd
}

func deployFile(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return defaultDeployFile
}

func runDeployment(cmd *cobra.Command, file string) error {
	d, err := deploy.Read(file)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	s, err := supervisor.New(d, file, supervisor.WithOutput(out, isTerminal(out)))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := s.ReloadFile(ctx); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "glyph run: reload:", err)
				}
			}
		}
	}()
	return s.Run(ctx)
}

// controlPath is the control socket of the supervisor running file: the
// one $GLYPH_CONTROL names (set in the processes it runs), or the one in
// the file's run directory.
func controlPath(file string, fileGiven bool) string {
	if v := os.Getenv(component.ControlEnv); v != "" && !fileGiven {
		return v
	}
	return filepath.Join(supervisor.RunDir(file), supervisor.ControlSocket)
}

// controlCall calls a function of the control API with named arguments
// and decodes its result into result (nil: dropped).
func controlCall(ctx context.Context, file string, fileGiven bool, name string, args map[string]any, result any) error {
	v, err := controlForm(ctx, file, fileGiven, name)
	if err != nil {
		return err
	}
	var res *client.Value
	if args != nil {
		res, err = v.Call(ctx, client.Named(args))
	} else {
		res, err = v.Call(ctx)
	}
	if err != nil {
		return err
	}
	defer res.Close()
	if result == nil {
		return nil
	}
	return res.Decode(result)
}

func controlForm(ctx context.Context, file string, fileGiven bool, name string) (*client.Value, error) {
	path := controlPath(file, fileGiven)
	idx, err := client.New().Get(ctx, "unix://"+path)
	if err != nil {
		if _, serr := os.Stat(path); errors.Is(serr, os.ErrNotExist) {
			return nil, fmt.Errorf("no supervisor runs %s (no %s): start it with glyph run %s", file, path, file)
		}
		return nil, err
	}
	return idx.Get(name)
}

func newStatusCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "status [--file FILE]",
		Short: "Show the processes of a running deployment",
		Long: `status lists the processes of the deployment that glyph run runs from
FILE (deploy.yaml by default; from a process it runs, that deployment):
their components, state, pid, restarts, uptime and addresses, and for a
process that is FATAL, EXITED or in BACKOFF why, with its last lines of
output.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			var sts []supervisor.Status
			if err := controlCall(ctx, file, cmd.Flags().Changed("file"), "status", nil, &sts); err != nil {
				return err
			}
			return writeStatus(cmd.OutOrStdout(), sts)
		}),
	}
	cmd.Flags().StringVar(&file, "file", defaultDeployFile, "the deployment file the supervisor runs")
	return cmd
}

// writeStatus prints a status table.
func writeStatus(w io.Writer, sts []supervisor.Status) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tCOMPONENTS\tSTATE\tPID\tRESTARTS\tUPTIME\tADDRESS")
	for _, st := range sts {
		pid, up := "-", "-"
		if st.Pid != 0 {
			pid, up = fmt.Sprint(st.Pid), st.Uptime.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", st.Name, strings.Join(st.Components, ","), st.State, pid, st.Restarts, up, strings.Join(st.Addresses, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, st := range sts {
		if st.Message != "" && (st.State == supervisor.StateFatal || st.State == supervisor.StateExited || st.State == supervisor.StateBackoff) {
			fmt.Fprintf(w, "\n%s: %s\n", st.Name, st.Message)
			for _, l := range st.LastLog {
				fmt.Fprintf(w, "  | %s\n", l)
			}
		}
	}
	return nil
}

func newLogsCommand() *cobra.Command {
	var file string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [-f] [--file FILE] [PROCESS]",
		Short: "Show (and follow) the output of a running deployment's processes",
		Long: `logs prints the last lines the processes of a running deployment wrote
(those of PROCESS only: a process, a replica such as Storage/1, or glyph for
the supervisor's own), each prefixed with its process, and with -f follows
the new ones until interrupted.`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) > 0 {
				name = args[0]
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			form, err := controlForm(ctx, file, cmd.Flags().Changed("file"), "logs")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for v, err := range form.Stream(ctx, client.Named(map[string]any{"name": name, "follow": follow})) {
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				var l supervisor.LogLine
				if err := v.Decode(&l); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s | %s\n", l.Process, l.Text)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&file, "file", defaultDeployFile, "the deployment file the supervisor runs")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	return cmd
}

func newRestartCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "restart [--file FILE] PROCESS",
		Short: "Restart a process of a running deployment",
		Long: `restart restarts a process of the deployment a supervisor runs: every
replica of a process or of the process serving a component ("Storage"), or
one replica ("Storage/1"). A FATAL process starts again with a fresh start
limit.`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			form, err := controlForm(ctx, file, cmd.Flags().Changed("file"), "restart")
			if err != nil {
				return err
			}
			res, err := form.Call(ctx, client.Named(map[string]any{"name": args[0]}))
			if err != nil {
				return err
			}
			res.Close()
			fmt.Fprintln(cmd.OutOrStdout(), "restarting", args[0])
			return nil
		}),
	}
	cmd.Flags().StringVar(&file, "file", defaultDeployFile, "the deployment file the supervisor runs")
	return cmd
}
