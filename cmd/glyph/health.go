package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/spf13/cobra"
)

// exitNotServing is the exit status of glyph health when the service
// answered with a status other than SERVING.
const exitNotServing = 3

// exitStatus ends a command with an exit status of its own, having said
// what it had to on stdout: run prints nothing more.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newHealthCommand() *cobra.Command {
	var (
		flags remoteFlags
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "health URL [SERVICE]",
		Short: "Check the health of a service (SERVING, NOT_SERVING, ...)",
		Long: `health calls check on the service at URL, as package health offers it
(health.Server.Register), and prints the status it answers: SERVING,
NOT_SERVING, UNKNOWN, or SERVICE_UNKNOWN when the service has no status
for SERVICE. Without SERVICE, the status is the program's as a whole.

URL is any URL glyph get takes: http://, https://, or a peer URL (ws://,
wss://, tcp://, unix://), the root of the service that offers check.

With --watch, health calls watch instead and prints the status, then
each new one on a line of its own as it changes, until the server shuts
its health down (the last status is then NOT_SERVING), --timeout passes
(if given) or it is interrupted. A watch needs a peer URL: over HTTP the
statuses arrive only once the answer ends.

Exit status:
  0  the (last) status was SERVING
  1  the check failed: no answer, or an error from the server
  2  usage error
  3  the (last) status was anything other than SERVING`,
		Example: `  glyph health http://127.0.0.1:8080/
  glyph health tcp://127.0.0.1:9000 search
  glyph health --watch unix:///run/app.sock`,
		Args: cobra.RangeArgs(1, 2),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			url, name := args[0], ""
			if len(args) == 2 {
				name = args[1]
			}
			if watch && (strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) {
				return usageErrorf("--watch needs a peer URL (ws://, wss://, tcp://, unix://), not %s", url)
			}
			c, err := flags.client()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := flags.context(cmd.Context())
			if watch && !cmd.Flags().Changed("timeout") {
				ctx, cancel = context.WithCancel(cmd.Context())
			}
			defer cancel()
			index, err := c.Get(ctx, url)
			if err != nil {
				return remoteError("GET "+url, err)
			}
			defer index.Close()
			var last string
			if watch {
				last, err = watchHealth(ctx, cmd, index, name)
			} else {
				last, err = checkHealth(ctx, index, name)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), last)
				}
			}
			if err != nil {
				return err
			}
			if last != "SERVING" {
				return &exitStatus{code: exitNotServing}
			}
			return nil
		}),
	}
	flags.registerConnection(cmd)
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "print each change of the status until interrupted (peer URLs only)")
	return cmd
}

// checkHealth calls check(name) on the index of a service.
func checkHealth(ctx context.Context, index *client.Value, name string) (string, error) {
	v, err := index.Path(ctx, "check", name)
	if err != nil {
		return "", remoteError("check", err)
	}
	defer v.Close()
	var s string
	if err := v.Decode(&s); err != nil {
		return "", fmt.Errorf("check: %w", err)
	}
	return s, nil
}

// watchHealth calls watch(name) on the index of a service and prints each
// status it streams. It returns the last one; the end of ctx after a
// status is the end of the watch, not a failure.
func watchHealth(ctx context.Context, cmd *cobra.Command, index *client.Value, name string) (string, error) {
	w, err := index.Get("watch")
	if err != nil {
		return "", remoteError("watch", err)
	}
	var last string
	for v, err := range w.Stream(ctx, name) {
		if err != nil {
			if last != "" && ctx.Err() != nil {
				break
			}
			return "", remoteError("watch", err)
		}
		var s string
		err := v.Decode(&s)
		v.Close()
		if err != nil {
			return "", fmt.Errorf("watch: %w", err)
		}
		last = s
		fmt.Fprintln(cmd.OutOrStdout(), s)
	}
	if last == "" {
		return "", errors.New("watch: the stream ended without a status")
	}
	return last, nil
}

// registerConnection registers the flags of a command that talks to a
// server but prints no page: --timeout, --header, --cacert, --insecure.
func (f *remoteFlags) registerConnection(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this long (0: never)")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "send the header 'Name: value' with every HTTP request, WebSocket handshake and peer call (repeatable)")
	fs.StringVar(&f.caCert, "cacert", "", "trust the CA certificates in this PEM file, instead of the system's, for https:// and wss://")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the server's TLS certificate (https://, wss://)")
	cmd.MarkFlagFilename("cacert", "pem", "crt", "cer")
}
