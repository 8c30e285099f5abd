package bench

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/component/supervisor"
)

// The supervisor benchmarks (issue 15) measure, with real processes of a
// Go component binary (bench/internal/benchcomp):
//
//   - BenchmarkSupervisorStart: glyph run's work to all ready for the
//     search example's layout (storage ×2, search, front over unix
//     sockets: four processes, each started once those it uses are
//     ready): supervisor.New and Start, the shutdown not counted.
//   - BenchmarkSupervisorRestart: a child killed with SIGKILL until it is
//     ready again, at its first restart: with the default backoff (100ms,
//     less up to half by jitter) and with a backoff of 1ms (what starting
//     the binary again costs).
//
// See README.md for the command and the results.

var benchcomp struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildBenchcomp builds the component binary once per test binary.
func buildBenchcomp(b *testing.B) string {
	benchcomp.once.Do(func() {
		dir, err := os.MkdirTemp("", "benchcomp")
		if err != nil {
			benchcomp.err = err
			return
		}
		benchcomp.path = filepath.Join(dir, "benchcomp")
		benchcomp.out, benchcomp.err = exec.Command("go", "build", "-o", benchcomp.path, "./internal/benchcomp").CombinedOutput()
	})
	if benchcomp.err != nil {
		b.Fatalf("go build: %v\n%s", benchcomp.err, benchcomp.out)
	}
	return benchcomp.path
}

const searchLayout = `
version: 1
components:
  Storage: {binary: BIN, replicas: 2}
  Search: {binary: BIN, uses: [Storage]}
  front: {binary: BIN, uses: [Search]}
`

func supervise(b *testing.B, yaml string) *supervisor.Supervisor {
	bin := buildBenchcomp(b)
	d, err := deploy.Parse("deploy.yaml", []byte(strings.ReplaceAll(yaml, "BIN", bin)))
	if err != nil {
		b.Fatal(err)
	}
	run, err := os.MkdirTemp("", "g")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(run) })
	s, err := supervisor.New(d, filepath.Join(run, "deploy.yaml"), supervisor.WithOutput(io.Discard, false), supervisor.WithRunDir(run))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func shutdown(b *testing.B, s *supervisor.Supervisor) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkSupervisorStart(b *testing.B) {
	buildBenchcomp(b)
	for b.Loop() {
		b.StopTimer()
		s := supervise(b, searchLayout)
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.Start(ctx)
		cancel()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if n := len(s.Status()); n != 4 {
			b.Fatalf("%d processes", n)
		}
		shutdown(b, s)
		b.StartTimer()
	}
}

func BenchmarkSupervisorRestart(b *testing.B) {
	// stable: 1ms makes every kill a first restart (RUNNING resets the
	// backoff); the limit keeps the crash loop from turning FATAL.
	b.Run("backoff=100ms", func(b *testing.B) { benchRestart(b, "{stable: 1ms, limit: 1000000}") })
	b.Run("backoff=1ms", func(b *testing.B) { benchRestart(b, "{stable: 1ms, limit: 1000000, backoff: 1ms}") })
}

func benchRestart(b *testing.B, restart string) {
	s := supervise(b, `
version: 1
components:
  Storage:
    binary: BIN
    restart: `+restart+`
`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer shutdown(b, s)
	running := func() (supervisor.Status, bool) {
		st := s.Status()[0]
		return st, st.State == supervisor.StateRunning && st.Ready
	}
	for b.Loop() {
		b.StopTimer()
		st, ok := running()
		for !ok {
			time.Sleep(100 * time.Microsecond)
			st, ok = running()
		}
		b.StartTimer()
		if err := syscall.Kill(st.Pid, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		for {
			now := s.Status()[0]
			if now.Ready && now.Pid != st.Pid && now.Pid != 0 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// BenchmarkSecretProof: what the deployment secret adds to each call: the
// caller making a proof, the callee checking it (HMAC-SHA256 each, and the
// replay check).
func BenchmarkSecretProof(b *testing.B) {
	r := secret.NewKeyring(secret.NewKey())
	b.Run("make", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Proof()
		}
	})
	b.Run("make+check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Check(r.Proof()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
