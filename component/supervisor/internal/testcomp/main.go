// Command testcomp is the component binary of the supervisor's tests: it
// holds an Echo and a Relay component (Relay calls Echo), and, run as
// "testcomp supervise FILE", is a supervisor of its own that the tests
// can kill.
//
// Its environment steers it: TESTCOMP_CRASH=N makes it write three lines
// and exit with status N before it is ready; TESTCOMP_IGNORE_TERM=1 makes
// it ignore SIGTERM.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/supervisor"
	"github.com/glyph-ipc/glyph/service"
)

// Echo answers what it is told, and misbehaves on request.
type Echo interface {
	Echo(ctx context.Context, s string) (string, error)
	Pid(ctx context.Context) (int, error)
	Sleep(ctx context.Context, ms int) (int, error)
	Freeze(ctx context.Context) error
}

type echo struct{}

func (echo) Echo(_ context.Context, s string) (string, error) { return s, nil }
func (echo) Pid(context.Context) (int, error)                 { return os.Getpid(), nil }
func (echo) Sleep(ctx context.Context, ms int) (int, error) {
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-ctx.Done():
	}
	return os.Getpid(), nil
}

// Freeze stops the process (SIGSTOP) just after it answers: alive, but
// answering nothing.
func (echo) Freeze(context.Context) error {
	go func() {
		time.Sleep(20 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	}()
	return nil
}

// Relay calls Echo.
type Relay interface {
	Relay(ctx context.Context, s string) (string, error)
}

type relay struct {
	echo struct {
		Echo func(ctx context.Context, s string) (string, error)
	}
}

func (r *relay) Relay(ctx context.Context, s string) (string, error) {
	v, err := r.echo.Echo(ctx, s)
	return "relayed " + v, err
}

var parts = []component.Part{
	{Name: "Echo", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
		return component.Register[Echo](svc, echo{},
			component.Method("Echo", component.Args("s"), component.Idempotent()),
			component.Method("Pid", component.Idempotent()),
			component.Method("Sleep", component.Args("ms"), component.Idempotent()))
	}},
	{Name: "Relay", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
		rl := &relay{}
		if err := r.Bind(ctx, "Echo", &rl.echo); err != nil {
			return err
		}
		return component.Register[Relay](svc, rl, component.Method("Relay", component.Args("s")))
	}},
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "supervise" {
		supervise(os.Args[2])
		return
	}
	if v := os.Getenv("TESTCOMP_CRASH"); v != "" {
		code, _ := strconv.Atoi(v)
		fmt.Println("starting")
		fmt.Println("crash line 1")
		fmt.Fprintln(os.Stderr, "crash line 2")
		os.Exit(code)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if os.Getenv("TESTCOMP_IGNORE_TERM") != "" {
		signal.Ignore(syscall.SIGTERM)
		sigs = sigs[:1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()
	p, err := component.Start(ctx, parts, component.WithLogger(logger))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logger.Info("serving", "parts", p.Serving(), "public", p.Public())
	select {
	case <-ctx.Done():
	case <-p.Done():
	}
	p.Close()
	fmt.Println("stopped")
}

// supervise runs a supervisor of the deployment file and prints
// "ready" with the pids of its children once all are ready.
func supervise(file string) {
	d, err := deploy.Read(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := supervisor.New(d, file, supervisor.WithOutput(os.Stderr, false))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := s.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print("ready")
	for _, st := range s.Status() {
		fmt.Print(" ", st.Pid)
	}
	fmt.Println()
	<-ctx.Done()
	s.Shutdown(context.Background())
}
