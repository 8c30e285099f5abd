package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/component/supervisor"
	"github.com/glyph-ipc/glyph/internal/searchapp"
	"github.com/glyph-ipc/glyph/internal/searchapp/search"
	"github.com/glyph-ipc/glyph/internal/searchapp/storage"
	"github.com/spf13/cobra"
)

// demoDeployYAML is examples/search/deploy.yaml without its comments (a
// test checks that they agree): the deployment glyph demo deploy runs.
const demoDeployYAML = `version: 1
components:
  Storage:
    binary: ./bin/search
    replicas: 2
    route: {fail: over}
    restart: {backoff: 50ms}
  Search:
    binary: ./bin/search
    uses: [Storage]
    public: true
  front:
    binary: ./bin/search
    transport: http
    address: 127.0.0.1:8080
    uses: [Search]
`

// exampleSearchCommand is the hidden command that makes glyph the binary
// of the demo's processes: it holds the example's components.
const exampleSearchCommand = "example-search"

// The demo's query.
const (
	demoQuery      = "red fruit"
	demoMaxResults = 3
)

// demoDeploy runs the search example as glyph run runs
// examples/search/deploy.yaml, with glyph itself as the example's binary,
// calls the front, kills a Storage replica and shows that calls are
// still answered and that the replica comes back.
func demoDeploy(ctx context.Context, d *demo) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	w := d.w
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "glyph-demo")
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "deploy.yaml")
	yaml := strings.ReplaceAll(demoDeployYAML, "binary: ./bin/search", "binary: "+strconv.Quote(exe)+"\n    args: ["+exampleSearchCommand+"]")
	yaml = strings.Replace(yaml, "address: 127.0.0.1:8080", "address: "+d.addr, 1)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		os.RemoveAll(dir)
		return err
	}
	dep, err := deploy.Read(file)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	s, err := supervisor.New(dep, file, supervisor.WithOutput(d.log, false))
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(sctx)
		os.RemoveAll(s.RunDir())
		os.RemoveAll(dir)
	}
	kept := false
	defer func() {
		if !kept {
			stop()
		}
	}()

	fmt.Fprintf(w, `The search example (examples/search) as separate processes: Storage twice,
Search, and the front, the one port open to the outside. Its deployment file,
examples/search/deploy.yaml, without comments:

%s
This glyph is the binary here, for it holds the example's components too
(glyph %s); the front listens at %s. As glyph run
does, the supervisor starts each process once those it uses are ready.

`, indent(demoDeployYAML, "  "), exampleSearchCommand, d.addr)
	started := time.Now()
	if err := s.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "» glyph run %s\n  all %d processes ready in %s\n\n", file, len(s.Status()), time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(w, "» glyph status --file %s\n", file)
	sts, err := demoStatus(ctx, d, file)
	if err != nil {
		return err
	}
	frontURL := ""
	for _, st := range sts {
		if st.Name == front.Name && len(st.Addresses) == 1 {
			frontURL = st.Addresses[0]
		}
	}
	if frontURL == "" {
		return errors.New("glyph status shows no address for the front")
	}
	fmt.Fprintf(w, "  # STARTING: ready, and RUNNING once up for the stable period (1s)\n\n")

	want, err := (&search.Engine{Storage: storage.NewShelf(storage.Seed())}).RunQuery(ctx, demoQuery, demoMaxResults)
	if err != nil {
		return err
	}
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Search": {Providers: []string{frontURL}}}))
	if err != nil {
		return err
	}
	defer r.Close()
	srch, err := component.Dial[search.Search](ctx, r)
	if err != nil {
		return err
	}
	call := fmt.Sprintf("search.RunQuery(%q, %d)", demoQuery, demoMaxResults)
	ask := func() (string, error) {
		res, err := srch.RunQuery(ctx, demoQuery, demoMaxResults)
		if err != nil {
			return "", err
		}
		if got, want := demoShow(res), demoShow(want); got != want {
			return "", fmt.Errorf("%s answered %s, want %s (as in one process)", call, got, want)
		}
		return demoShow(res), nil
	}
	fmt.Fprintf(w, "» search = the Search interface bound to the front at %s\n» %s\n", frontURL, call)
	got, err := ask()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s\n  # the front forwards it to Search, which asks a Storage replica for candidates\n\n", got)

	victim := demoProcess(sts, "Storage/0")
	if victim == nil || victim.Pid == 0 {
		return errors.New("glyph status shows no pid for Storage/0")
	}
	p, err := os.FindProcess(victim.Pid)
	if err != nil {
		return err
	}
	if err := p.Kill(); err != nil {
		return fmt.Errorf("killing Storage/0: %w", err)
	}
	killed := time.Now()
	fmt.Fprintf(w, "» kill -9 %d   # Storage/0\n", victim.Pid)
	const calls = 5
	for range calls {
		if _, err := ask(); err != nil {
			return fmt.Errorf("after Storage/0 was killed: %w", err)
		}
	}
	fmt.Fprintf(w, "» %s, %d times at once\n  %s each time\n  # Search's route to Storage (fail: over) turns to Storage/1 while Storage/0 is down\n\n", call, calls, got)

	var back supervisor.Status
	for {
		st := demoProcess(s.Status(), "Storage/0")
		if st != nil && st.Ready && st.Pid != 0 && st.Pid != victim.Pid {
			back = *st
			break
		}
		select {
		case <-ctx.Done():
			return errors.New("Storage/0 did not come back")
		case <-time.After(5 * time.Millisecond):
		}
	}
	fmt.Fprintf(w, "The supervisor restarted Storage/0 at once (restart: {backoff: 50ms}): pid %d,\nready %s after the kill, on the same socket.\n\n",
		back.Pid, time.Since(killed).Round(time.Millisecond))
	fmt.Fprintf(w, "» glyph status --file %s\n", file)
	if sts, err = demoStatus(ctx, d, file); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if st := demoProcess(sts, "Storage/0"); st == nil || st.Restarts != 1 {
		return fmt.Errorf("glyph status shows Storage/0 as %+v, want 1 restart", st)
	}
	if got, err = ask(); err != nil {
		return err
	}
	fmt.Fprintf(w, "» %s\n  %s\n", call, got)
	kept = true
	d.running = append(d.running, running{stop: stop, hint: fmt.Sprintf(`The deployment keeps running until Ctrl-C; the front is at %s. Try:

  curl -s %sjsonrpc -d '{"jsonrpc": "2.0", "id": 1, "method": "Search.run_query", "params": {"query": "red fruit"}}'
  go run ./cmd/glyph call %s Search.run_query "red fruit"
  go run ./cmd/glyph status --file %s
  go run ./cmd/glyph logs -f --file %s
  go run ./cmd/glyph restart --file %s Storage/1
`, frontURL, frontURL, frontURL, file, file, file)})
	return nil
}

// demoStatus prints the deployment's status as glyph status does, asking
// the supervisor's control socket as glyph status does.
func demoStatus(ctx context.Context, d *demo, file string) ([]supervisor.Status, error) {
	var sts []supervisor.Status
	if err := controlCall(ctx, file, true, "status", nil, &sts); err != nil {
		return nil, err
	}
	return sts, writeStatus(d.w, sts)
}

func demoProcess(sts []supervisor.Status, name string) *supervisor.Status {
	i := slices.IndexFunc(sts, func(st supervisor.Status) bool { return st.Name == name })
	if i < 0 {
		return nil
	}
	return &sts[i]
}

func demoShow(res search.ThingiesOfType) string {
	var s []string
	for _, t := range res.Results {
		s = append(s, t.ID+" "+t.Name)
	}
	return "{results: [" + strings.Join(s, ", ") + "]}"
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" && l != "\n" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

// newExampleSearchCommand is glyph as the binary of the processes of
// glyph demo deploy: it serves the parts of examples/search that its
// environment assigns, as the example's own binary does.
func newExampleSearchCommand() *cobra.Command {
	return &cobra.Command{
		Use:    exampleSearchCommand,
		Short:  "Serve the components of examples/search that a supervisor assigns (glyph demo deploy's processes)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if _, ok := os.LookupEnv(component.ServeEnv); !ok {
				return fmt.Errorf("$%s is not set: glyph demo deploy (or glyph run) runs this, not a person", component.ServeEnv)
			}
			slog.SetDefault(slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return component.Run(ctx, searchapp.Parts())
		}),
	}
}
