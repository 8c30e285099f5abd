// Command telemeter is the shared objects' tutorial application, either
// side of it, each on its own computer (or account) with its own daemon
// (glyph hub start):
//
//	go run ./examples/telemeter telemeter [-interval 1s]
//	go run ./examples/telemeter monitor -telemeter FINGERPRINT [-interval 2s]
//
// The telemeter prints its identity's fingerprint and waits; the monitor
// pairs with that fingerprint and prints each status the telemeter
// publishes. A duration typed into the monitor ("500ms") becomes the
// telemeter's interval. -demo runs both, with a remote and three daemons,
// on this machine (as glyph demo telemeter does).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/internal/telemeter"
	"github.com/glyph-ipc/glyph/objects/link"
	"github.com/glyph-ipc/glyph/objects/record"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "telemeter:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("telemeter", flag.ContinueOnError)
	interval := fs.Duration("interval", time.Second, "how often the telemeter publishes (the monitor's: the interval it asks for)")
	peer := fs.String("telemeter", "", "monitor: the telemeter's identity fingerprint")
	socket := fs.String("socket", "", "the daemon's socket (default: found as glyph hub finds its configuration)")
	demo := fs.Bool("demo", false, "run a remote, three daemons and both sides on this machine, then exit")
	role := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		role, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *demo {
		return telemeter.RunDemo(ctx, stdout, true)
	}
	var opts []link.Option
	if *socket != "" {
		opts = append(opts, link.WithSocket(*socket))
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(stdout, s)
	}
	switch role {
	case "telemeter":
		l, err := link.Dial(ctx, append(opts, link.WithName("telemeter"))...)
		if err != nil {
			return err
		}
		defer l.Close()
		fp, err := l.Whoami(ctx)
		if err != nil {
			return err
		}
		say("telemeter: this identity is " + fp.String())
		s := telemeter.NewSampler()
		return telemeter.NewTelemeter(l, *interval, s.Sample, say).Run(ctx)
	case "monitor":
		to, err := record.ParseAddress(*peer)
		if err != nil {
			return fmt.Errorf("-telemeter: %w", err)
		}
		l, err := link.Dial(ctx, append(opts, link.WithName("monitor"))...)
		if err != nil {
			return err
		}
		defer l.Close()
		m := telemeter.NewMonitor(l, say)
		if err := m.Pair(ctx, to, *interval, func(s telemeter.Status) { say("monitor: " + s.String()) }); err != nil {
			return err
		}
		say("monitor: paired; type a duration (such as 500ms) to change the interval")
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdin)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return nil
			case line := <-lines:
				d, err := time.ParseDuration(strings.TrimSpace(line))
				if err != nil {
					say("monitor: not a duration: " + line)
					continue
				}
				if err := m.SetInterval(ctx, d); err != nil {
					return err
				}
				say(fmt.Sprintf("monitor: asked for an interval of %v", d))
			}
		}
	}
	return errors.New("usage: telemeter telemeter [-interval D] | telemeter monitor -telemeter FINGERPRINT [-interval D] | telemeter -demo")
}
