package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/link"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/service"
	"github.com/spf13/cobra"
)

// cliTokenName is the file in the daemon's store directory where glyph
// obj keeps its application token.
const cliTokenName = "cli.token"

// dialLink connects to the daemon of cfg as the application "glyph", with
// the token it kept, or registers and keeps one.
func dialLink(ctx context.Context, cfg *hub.Config) (*link.Link, error) {
	path := filepath.Join(cfg.Store, cliTokenName)
	if b, err := os.ReadFile(path); err == nil {
		l, err := link.Dial(ctx, link.WithSocket(cfg.Socket), link.WithToken(strings.TrimSpace(string(b))))
		if service.KindOf(err) != service.KindUnauthenticated {
			return l, err
		}
	}
	l, err := link.Dial(ctx, link.WithSocket(cfg.Socket), link.WithName("glyph"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(l.Token()+"\n"), 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func newObjCommand() *cobra.Command {
	var cfgPath string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "obj",
		Short: "Make, read, change and share objects through the local daemon",
		Long: `obj does what an application does with shared objects, through the local
daemon (glyph hub): make them, read them, push new states, share them with
other identities (their fingerprints, which glyph hub status shows), take the
share back, freeze, hold, delete, and watch their changes. A state is given
as an argument, or read from standard input when the argument is "-".`,
	}
	cmd.PersistentFlags().StringVar(&cfgPath, "config", "", "the daemon's configuration file (default: searched as glyph hub does)")
	cmd.PersistentFlags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long (watch: 0, never)")
	with := func(cmd *cobra.Command, f func(ctx context.Context, l *link.Link) error) error {
		cfg, err := hub.FindConfig()
		if cfgPath != "" {
			cfg, err = hub.LoadConfig(cfgPath)
		}
		if err != nil {
			return err
		}
		ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt)
		defer cancel()
		if timeout > 0 {
			var c2 context.CancelFunc
			ctx, c2 = context.WithTimeout(ctx, timeout)
			defer c2()
		}
		l, err := dialLink(ctx, cfg)
		if err != nil {
			return err
		}
		defer l.Close()
		return f(ctx, l)
	}
	state := func(cmd *cobra.Command, arg string) ([]byte, error) {
		if arg == "-" {
			return io.ReadAll(io.LimitReader(cmd.InOrStdin(), hub.MaxState))
		}
		return []byte(arg), nil
	}
	id := func(s string) (record.Address, error) {
		a, err := record.ParseAddress(s)
		if err != nil {
			return a, usageErrorf("%q is not an object id or a fingerprint", s)
		}
		return a, nil
	}

	var api string
	var static, private bool
	newCmd := &cobra.Command{
		Use:   "new --api API [STATE|-]",
		Short: "Make an object and print its id",
		Args:  cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if api == "" {
				return usageErrorf("--api is required")
			}
			var data []byte
			if len(args) == 1 {
				var err error
				if data, err = state(cmd, args[0]); err != nil {
					return err
				}
			}
			return with(cmd, func(ctx context.Context, l *link.Link) error {
				var opts []link.NewOption
				if static {
					opts = append(opts, link.Static())
				}
				if private {
					opts = append(opts, link.Private())
				}
				o, err := link.New(ctx, l, link.Raw(), api, data, opts...)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), o.ID())
				return nil
			})
		}),
	}
	newCmd.Flags().StringVar(&api, "api", "", "the object's API id (an application's schema id)")
	newCmd.Flags().BoolVar(&static, "static", false, "an immutable object (default: dynamic)")
	newCmd.Flags().BoolVar(&private, "private", false, "visible to this command's application only")

	var info bool
	getCmd := &cobra.Command{
		Use:   "get ID",
		Short: "Print an object's state (or, with --info, what the daemon knows of it)",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			a, err := id(args[0])
			if err != nil {
				return err
			}
			return with(cmd, func(ctx context.Context, l *link.Link) error {
				o, err := link.Get(ctx, l, link.Raw(), a)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if !info {
					_, err := out.Write(o.State())
					return err
				}
				v := o.Info()
				fmt.Fprintf(out, "id:      %s\napi:     %s\nowner:   %s\ndynamic: %v\ncounter: %d\nepoch:   %d\nprivate: %v\nheld:    %v\n", v.ID, v.API, v.Owner, v.Dynamic, v.Counter, v.Epoch, v.Private, v.Held)
				for _, r := range v.Readers {
					fmt.Fprintf(out, "reader:  %s\n", r)
				}
				return nil
			})
		}),
	}
	getCmd.Flags().BoolVar(&info, "info", false, "print the object's id, API id, owner, counter, epoch and readers instead of its state")

	pushCmd := &cobra.Command{
		Use:   "push ID STATE|-",
		Short: "Push a new state of an object the account owns",
		Args:  cobra.ExactArgs(2),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			a, err := id(args[0])
			if err != nil {
				return err
			}
			data, err := state(cmd, args[1])
			if err != nil {
				return err
			}
			return with(cmd, func(ctx context.Context, l *link.Link) error {
				o, err := link.Get(ctx, l, link.Raw(), a)
				if err != nil {
					return err
				}
				return o.Push(ctx, data)
			})
		}),
	}

	// simple are the commands that take an object id (and maybe an
	// identity) and call one method.
	simple := func(use, short string, withWho bool, f func(ctx context.Context, o *link.Object[[]byte], who record.Address, out io.Writer) error) *cobra.Command {
		n := 1
		if withWho {
			n = 2
		}
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.ExactArgs(n),
			RunE: runE(func(cmd *cobra.Command, args []string) error {
				a, err := id(args[0])
				if err != nil {
					return err
				}
				var who record.Address
				if withWho {
					if who, err = id(args[1]); err != nil {
						return err
					}
				}
				return with(cmd, func(ctx context.Context, l *link.Link) error {
					o, err := link.Get(ctx, l, link.Raw(), a)
					if err != nil {
						return err
					}
					return f(ctx, o, who, cmd.OutOrStdout())
				})
			}),
		}
	}
	shareCmd := simple("share ID FINGERPRINT", "Share an object with an identity", true, func(ctx context.Context, o *link.Object[[]byte], who record.Address, _ io.Writer) error {
		return o.Share(ctx, who)
	})
	unshareCmd := simple("unshare ID FINGERPRINT", "Stop sharing an object with an identity (a new key epoch it never gets)", true, func(ctx context.Context, o *link.Object[[]byte], who record.Address, _ io.Writer) error {
		return o.Unshare(ctx, who)
	})
	freezeCmd := simple("freeze ID", "Make a static snapshot of a dynamic object and print its id", false, func(ctx context.Context, o *link.Object[[]byte], _ record.Address, out io.Writer) error {
		f, err := o.Freeze(ctx)
		if err == nil {
			fmt.Fprintln(out, f.ID())
		}
		return err
	})
	holdCmd := simple("hold ID", "Keep someone else's object alive for this account", false, func(ctx context.Context, o *link.Object[[]byte], _ record.Address, _ io.Writer) error {
		return o.Hold(ctx)
	})
	deleteCmd := simple("delete ID", "Delete an object the account owns, everywhere", false, func(ctx context.Context, o *link.Object[[]byte], _ record.Address, _ io.Writer) error {
		return o.Delete(ctx)
	})

	var count int
	var apis []string
	watchCmd := &cobra.Command{
		Use:   "watch [ID...] [--api API...]",
		Short: "Print the changes of objects, and the shares of API ids, as they come",
		Long: `watch prints one line per event until interrupted (or after --count events):
"update ID COUNTER STATE", "delete ID", "unshare ID" for the objects named (and,
for the account's own, "shared ID TO" once a remote has a share, or
"share_failed ID TO ERROR"), and
"share ID API FROM" for objects shared with the account whose API id --api
names (shares that arrived while nothing handled that API id come first).
States are printed as Go-quoted strings.`,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(apis) == 0 {
				return usageErrorf("name objects, --api, or both")
			}
			var ids []record.Address
			for _, s := range args {
				a, err := id(s)
				if err != nil {
					return err
				}
				ids = append(ids, a)
			}
			if !cmd.Flags().Changed("timeout") {
				timeout = 0
			}
			return with(cmd, func(ctx context.Context, l *link.Link) error {
				lines := make(chan string, 64)
				for _, a := range ids {
					o, err := link.Get(ctx, l, link.Raw(), a)
					if err != nil {
						return err
					}
					err = o.Watch(ctx, link.Callbacks[[]byte]{
						Update: func(o *link.Object[[]byte]) {
							lines <- fmt.Sprintf("update %s %d %q", o.ID(), o.Info().Counter, o.State())
						},
						Delete:  func(o *link.Object[[]byte]) { lines <- "delete " + o.ID().String() },
						Unshare: func(o *link.Object[[]byte]) { lines <- "unshare " + o.ID().String() },
						Shared: func(o *link.Object[[]byte], to record.Address, err error) {
							if err != nil {
								lines <- fmt.Sprintf("share_failed %s %s %q", o.ID(), to, err.Error())
								return
							}
							lines <- fmt.Sprintf("shared %s %s", o.ID(), to)
						},
					})
					if err != nil {
						return err
					}
				}
				for _, api := range apis {
					if err := l.HandleShares(ctx, api, func(s link.Share) { lines <- fmt.Sprintf("share %s %s %s", s.ID, s.API, s.From) }); err != nil {
						return err
					}
				}
				out := cmd.OutOrStdout()
				fmt.Fprintln(cmd.ErrOrStderr(), "watching")
				for n := 0; count == 0 || n < count; n++ {
					select {
					case <-ctx.Done():
						return nil
					case line := <-lines:
						fmt.Fprintln(out, line)
					}
				}
				return nil
			})
		}),
	}
	watchCmd.Flags().IntVar(&count, "count", 0, "exit after this many events (0: never)")
	watchCmd.Flags().StringArrayVar(&apis, "api", nil, "print the shares of objects of this API id (repeatable)")

	cmd.AddCommand(newCmd, getCmd, pushCmd, shareCmd, unshareCmd, freezeCmd, holdCmd, deleteCmd, watchCmd)
	return cmd
}
