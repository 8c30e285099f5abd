package bench

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// BenchmarkGlyphRunExample (issue 15) measures `glyph run` of the search
// example (examples/search) to all ready, as a person runs it: the glyph
// binary started on a copy of the example's deployment file, until it
// prints that every process is ready. Each run starts the glyph process,
// which parses the file, creates the sockets and starts four processes of
// the example's binary (Storage twice, then Search once Storage is
// ready, then the front once Search is), each reading its environment,
// serving and reporting ready; the front describes Search through its
// socket before it is ready. The shutdown is not counted.
//
//   - unix: examples/search/deploy.yaml (every component over a Unix
//     socket);
//   - nats: examples/search/deploy-nats.yaml (Storage a service on a
//     nats-server embedded in the benchmark's process).
//
// It reports the median and the slowest (p50-ms, max-ms). See README.md
// for the command and the results.
func BenchmarkGlyphRunExample(b *testing.B) {
	bins := buildDeployBinaries(b)
	b.Run("unix", func(b *testing.B) { benchGlyphRun(b, bins, "deploy.yaml", "") })
	b.Run("nats", func(b *testing.B) {
		ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
		if err != nil {
			b.Fatal(err)
		}
		go ns.Start()
		defer ns.Shutdown()
		if !ns.ReadyForConnections(10 * time.Second) {
			b.Fatal("nats-server did not start")
		}
		benchGlyphRun(b, bins, "deploy-nats.yaml", ns.ClientURL())
	})
}

// buildDeployBinaries builds glyph and the search example into a
// directory of b's, and returns their paths.
func buildDeployBinaries(b *testing.B) [2]string {
	dir := b.TempDir()
	bins := [2]string{filepath.Join(dir, "glyph"), filepath.Join(dir, "search")}
	for i, pkg := range []string{"./cmd/glyph", "./examples/search"} {
		// Built in the main module, with its go.mod: what a person builds.
		cmd := exec.Command("go", "build", "-o", bins[i], pkg)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return bins
}

func benchGlyphRun(b *testing.B, bins [2]string, file, natsURL string) {
	yaml, err := os.ReadFile(filepath.Join("..", "examples", "search", file))
	if err != nil {
		b.Fatal(err)
	}
	s := strings.Replace(string(yaml), "address: 127.0.0.1:8080", "address: 127.0.0.1:0", 1)
	if natsURL != "" {
		s = strings.Replace(s, "nats: nats://127.0.0.1:4222", "nats: "+natsURL, 1)
	}
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(bins[1], filepath.Join(dir, "bin", "search")); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte(s), 0o600); err != nil {
		b.Fatal(err)
	}
	runDir, err := os.MkdirTemp("", "g") // Unix sockets' paths must be short
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(runDir)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+runDir)

	var durations []time.Duration
	for b.Loop() {
		cmd := exec.Command(bins[0], "run", "deploy.yaml")
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var seen []string
		ready := false
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), `msg="all ready" processes=4`) {
				ready = true
				break
			}
		}
		d := time.Since(start)
		b.StopTimer()
		if !ready {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatalf("glyph run never got all ready:\n%s", strings.Join(seen, "\n"))
		}
		durations = append(durations, d)
		cmd.Process.Signal(syscall.SIGTERM)
		go func() { // glyph run writes until it ends
			for sc.Scan() {
			}
		}()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("glyph run after SIGTERM: %v", err)
		}
		b.StartTimer()
	}
	slices.Sort(durations)
	b.ReportMetric(float64(percentile(durations, 50))/1e6, "p50-ms")
	b.ReportMetric(float64(durations[len(durations)-1])/1e6, "max-ms")
}
