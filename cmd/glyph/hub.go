package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// envHubPassword gives glyph hub create, login and passwd the password
// (for scripts), which is never taken from the command line.
const envHubPassword = "GLYPH_HUB_PASSWORD"

func newHubCommand() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Run the shared-objects daemon and manage its account",
		Long: `hub runs the shared-objects daemon (package objects/hub): the process that
keeps one account's objects in a local store, encrypts and signs them, and
keeps them in step with the configured remotes. Applications reach it on a
Unix socket (package objects/link, or glyph obj).

The configuration is one YAML file: --config, or the file the environment
variable ` + hub.ConfigEnv + ` names, or ` + hub.ConfigName + ` in the current directory,
in the user's configuration directory (glyph/), or in /etc/glyph/.

Passwords are read from the terminal, or from standard input when it is not
one; never from the command line.`,
	}
	cmd.PersistentFlags().StringVar(&cfgPath, "config", "", "the configuration file (default: searched as above)")
	load := func() (*hub.Config, error) {
		if cfgPath != "" {
			return hub.LoadConfig(cfgPath)
		}
		return hub.FindConfig()
	}
	cmd.AddCommand(newHubStartCommand(load, false), newHubStartCommand(load, true), newHubStopCommand(load),
		newHubStatusCommand(load), newHubAccountCommand(load, "create"), newHubAccountCommand(load, "login"),
		newHubAccountCommand(load, "passwd"))
	return cmd
}

func newHubStartCommand(load func() (*hub.Config, error), foreground bool) *cobra.Command {
	use, short := "start", "Start the daemon in the background and wait until it serves"
	if foreground {
		use, short = "run", "Run the daemon in the foreground (for systemd and containers) until SIGINT or SIGTERM"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			if foreground {
				return runHub(cmd.Context(), cfg, cmd.ErrOrStderr())
			}
			return startHub(cmd, cfg)
		}),
	}
}

// runHub runs the daemon until a signal.
func runHub(ctx context.Context, cfg *hub.Config, logTo io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: cfg.Level()}))
	h, err := hub.Open(ctx, cfg, hub.WithLogger(log))
	if err != nil {
		return err
	}
	defer h.Close()
	if _, err := h.Whoami(); err != nil {
		log.Warn("no account yet: stop the daemon and run glyph hub create or glyph hub login")
	}
	return h.Serve(ctx, nil)
}

// startHub starts "glyph hub run" detached, logging to hub.log in the
// store directory, and waits for its socket.
func startHub(cmd *cobra.Command, cfg *hub.Config) error {
	if pid, err := hub.LockHolder(cfg.Store); err == nil {
		return fmt.Errorf("the daemon of %s runs already (process %d)", cfg.Store, pid)
	}
	if err := os.MkdirAll(cfg.Store, 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(cfg.Store, "hub.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"hub", "run"}
	if p := cfg.Path(); p != "" {
		args = append(args, "--config", p)
	}
	c := exec.Command(self, args...)
	c.Stdout, c.Stderr = logf, logf
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.After(30 * time.Second)
	for {
		if _, err := os.Stat(cfg.Socket); err == nil {
			if pid, err := hub.LockHolder(cfg.Store); err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "glyph hub: started, process %d, socket %s\n", pid, cfg.Socket)
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the daemon exited (%v); see %s", err, logf.Name())
		case <-deadline:
			return fmt.Errorf("the daemon did not serve within 30s; see %s", logf.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func newHubStopCommand(load func() (*hub.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the daemon (SIGTERM) and wait until it exits",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			pid, err := hub.LockHolder(cfg.Store)
			if err != nil {
				return fmt.Errorf("no daemon runs on %s", cfg.Store)
			}
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				return err
			}
			for range 300 {
				if _, err := hub.LockHolder(cfg.Store); err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "glyph hub: stopped process %d\n", pid)
					return nil
				}
				time.Sleep(50 * time.Millisecond)
			}
			return fmt.Errorf("process %d did not exit within 15s", pid)
		}),
	}
}

func newHubStatusCommand(load func() (*hub.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say whether the daemon runs, and as whom",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			src := cfg.Path()
			if src == "" {
				src = "defaults"
			}
			fmt.Fprintf(out, "config:  %s\nstore:   %s\nsocket:  %s\nhttp:    %s\n", src, cfg.Store, cfg.Socket, cfg.HTTPSocket)
			for _, r := range cfg.Remotes {
				fmt.Fprintf(out, "remote:  %s\n", r.URL)
			}
			pid, err := hub.LockHolder(cfg.Store)
			if err != nil {
				fmt.Fprintln(out, "daemon:  not running")
				return errors.New("the daemon is not running")
			}
			fmt.Fprintf(out, "daemon:  running, process %d\n", pid)
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			l, err := dialLink(ctx, cfg)
			if err != nil {
				return err
			}
			defer l.Close()
			fp, err := l.Whoami(ctx)
			if err != nil {
				fmt.Fprintf(out, "account: none (%v)\n", err)
				return nil
			}
			fmt.Fprintf(out, "account: %s\n", fp)
			return nil
		}),
	}
}

func newHubAccountCommand(load func() (*hub.Config, error), what string) *cobra.Command {
	short := map[string]string{
		"create": "Create the account NAME on this daemon's store (the daemon stopped)",
		"login":  "Log in to the account NAME from a remote with its password alone (the daemon stopped)",
		"passwd": "Change the account's password (the daemon stopped)",
	}[what]
	use := what + " NAME"
	args := cobra.ExactArgs(1)
	if what == "passwd" {
		use, args = what, cobra.NoArgs
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			h, err := hub.Open(ctx, cfg, hub.WithLogger(log))
			if err != nil {
				return err
			}
			defer h.Close()
			in := bufio.NewReader(cmd.InOrStdin())
			out := cmd.OutOrStdout()
			switch what {
			case "create":
				pw, err := readPassword(in, out, "new password: ", true)
				if err != nil {
					return err
				}
				fp, err := h.Create(ctx, args[0], pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "created %s: %s\n", args[0], fp)
			case "login":
				pw, err := readPassword(in, out, "password: ", false)
				if err != nil {
					return err
				}
				fp, err := h.Login(ctx, args[0], pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "logged in to %s: %s\n", args[0], fp)
			case "passwd":
				old, err := readPassword(in, out, "old password: ", false)
				if err != nil {
					return err
				}
				pw, err := readPassword(in, out, "new password: ", true)
				if err != nil {
					return err
				}
				if err := h.ChangePassword(ctx, old, pw); err != nil {
					return err
				}
				fmt.Fprintln(out, "password changed")
			}
			// What was written reaches the remotes before the command ends,
			// when they answer.
			dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
			defer dcancel()
			if err := h.Drained(dctx); err != nil && len(cfg.Remotes) > 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: not every remote has the account yet; the daemon sends it when they answer")
			}
			return nil
		}),
	}
}

// readPassword reads a password from the terminal without echo, or a line
// of in when standard input is not a terminal, or the environment's
// GLYPH_HUB_PASSWORD. A new password is asked twice on a terminal.
func readPassword(in *bufio.Reader, out io.Writer, prompt string, confirm bool) (string, error) {
	if pw := os.Getenv(envHubPassword); pw != "" {
		return pw, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := in.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	ask := func(p string) (string, error) {
		fmt.Fprint(out, p)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		return string(b), err
	}
	pw, err := ask(prompt)
	if err != nil || !confirm {
		return pw, err
	}
	again, err := ask("again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the passwords differ")
	}
	return pw, nil
}
