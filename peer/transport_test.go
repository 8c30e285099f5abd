package peer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

func TestDialErrors(t *testing.T) {
	ctx := ctxTimeout(t, 5*time.Second)
	for _, addr := range []string{"localhost:80", "http://x/", "udp://127.0.0.1:1"} {
		if _, err := peer.Dial(ctx, addr); kindOf(t, err) != service.KindInvalid {
			t.Errorf("Dial %q: %v", addr, err)
		}
	}
	// Nobody listens: refused, which is worth retrying later.
	l, _ := peer.Listen(ctx, "tcp://127.0.0.1:0")
	addr := l.Addr()
	l.Close()
	if _, err := peer.Dial(ctx, addr); !peer.Retryable(err) {
		t.Errorf("Dial a closed port: %v", err)
	}
	if _, err := peer.Dial(ctx, "unix://"+filepath.Join(t.TempDir(), "none.sock")); !peer.Retryable(err) {
		t.Errorf("Dial a missing socket: %v", err)
	}
	if _, err := peer.Listen(ctx, "ws://127.0.0.1:0/"); kindOf(t, err) != service.KindInvalid {
		t.Errorf("Listen ws: %v", err)
	}
}

func TestListener(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "l.sock")
	l, err := peer.Listen(context.Background(), "unix://"+path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr() != "unix://"+path {
		t.Errorf("Addr %q", l.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := l.Accept(ctx); kindOf(t, err) != service.KindDeadlineExceeded {
		t.Errorf("Accept past its deadline: %v", err)
	}
	// The listener still works after a canceled Accept.
	go func() {
		fc, err := peer.Dial(context.Background(), l.Addr())
		if err == nil {
			fc.Close()
		}
	}()
	fc, err := l.Accept(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatalf("Accept after a canceled one: %v", err)
	}
	fc.Close()
	l.Close()
	if _, err := l.Accept(context.Background()); kindOf(t, err) != service.KindUnavailable {
		t.Errorf("Accept after Close: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after Close: %v", err)
	}
}

// NewListener serves a listener made elsewhere (inherited from a
// supervisor): TCP and Unix, with the address Dial takes.
func TestNewListener(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unix, err := net.Listen("unix", filepath.Join(shortTempDir(t), "n.sock"))
	if err != nil {
		t.Fatal(err)
	}
	for _, nl := range []net.Listener{tcp, unix} {
		l := peer.NewListener(nl)
		want := "tcp://" + nl.Addr().String()
		if nl.Addr().Network() == "unix" {
			want = "unix://" + nl.Addr().String()
		}
		if l.Addr() != want {
			t.Errorf("Addr %q, want %q", l.Addr(), want)
		}
		go func() {
			fc, err := peer.Dial(context.Background(), l.Addr())
			if err == nil {
				fc.Close()
			}
		}()
		fc, err := l.Accept(ctxTimeout(t, 5*time.Second))
		if err != nil {
			t.Fatalf("%s: Accept: %v", want, err)
		}
		fc.Close()
		l.Close()
		if _, err := nl.Accept(); err == nil {
			t.Errorf("%s: the listener is open after Close", want)
		}
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestStreamBatchIsOneWrite(t *testing.T) {
	var w countingWriter
	fc := peer.NewStreamConn(rwc{nil, &w}, 0)
	frames := []peer.Frame{{Data: []byte("a"), Text: true}, {Data: nil}, {Data: []byte{1, 2, 3}}}
	if err := fc.WriteFrames(context.Background(), frames); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 {
		t.Errorf("%d writes for one batch", w.writes)
	}
	want := []byte("\x80\x00\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x03\x01\x02\x03")
	if !bytes.Equal(w.Bytes(), want) {
		t.Errorf("wrote %x", w.Bytes())
	}
}

func TestStreamReadsLargeFrame(t *testing.T) {
	// Past the reader's buffer, past the first chunk of a frame's own
	// buffer (64 KiB), past its second (512 KiB) and third (4 MiB).
	for _, n := range []int{5000, 300 << 10, 600 << 10, 5 << 20} {
		data := bytes.Repeat([]byte("0123456789"), n/10)
		other := bytes.Repeat([]byte("abcdefghij"), n/10)
		var buf bytes.Buffer
		peer.NewStreamConn(rwc{nil, &buf}, 0).WriteFrames(context.Background(), []peer.Frame{{Data: data}, {Data: other}})
		fc := peer.NewStreamConn(rwc{&buf, io.Discard}, len(data))
		f, err := fc.ReadFrame(context.Background())
		if err != nil || !bytes.Equal(f.Data, data) {
			t.Fatalf("%d: read %d bytes, %v", n, len(f.Data), err)
		}
		if f, err = fc.ReadFrame(context.Background()); err != nil || !bytes.Equal(f.Data, other) {
			t.Fatalf("%d: the second frame: %d bytes, %v", n, len(f.Data), err)
		}
	}
}

func TestPipe(t *testing.T) {
	a, b := peer.Pipe()
	ctx := ctxTimeout(t, 5*time.Second)
	buf := []byte("one")
	a.WriteFrames(ctx, []peer.Frame{{Data: buf, Text: true}, {Data: []byte("two")}})
	buf[0] = 'X' // WriteFrames copied
	a.Close()
	for _, want := range []string{"one", "two"} {
		f, err := b.ReadFrame(ctx)
		if err != nil || string(f.Data) != want || f.Text != (want == "one") {
			t.Fatalf("read %q %v %v, want %q", f.Data, f.Text, err, want)
		}
	}
	if _, err := b.ReadFrame(ctx); err != io.EOF {
		t.Errorf("after the other end closed: %v", err)
	}
	if err := b.WriteFrames(ctx, []peer.Frame{{Data: []byte("x")}}); err == nil {
		t.Error("write to a closed pipe succeeded")
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := peer.Pipe()
	if _, err := c.ReadFrame(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadFrame with a canceled context: %v", err)
	}
}

// TestStdio runs this test binary again as a child process that serves
// over its standard input and output.
func TestStdio(t *testing.T) {
	if os.Getenv("PEER_TEST_STDIO_CHILD") == "1" {
		c, err := peer.Server(context.Background(), peer.Stdio(), peer.WithHandler(services()))
		if err != nil {
			os.Exit(2)
		}
		<-c.Done()
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStdio$")
	cmd.Env = append(os.Environ(), "PEER_TEST_STDIO_CHILD=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fc := peer.NewStreamConn(struct {
		io.Reader
		io.WriteCloser
	}{stdout, stdin}, 0)
	c, err := peer.Client(ctxTimeout(t, 10*time.Second), fc)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Call(ctxTimeout(t, 10*time.Second), "echo", "through a child"); err != nil || v != "through a child" {
		t.Errorf("echo: %v %v", v, err)
	}
	c.Close() // closes the child's stdin: it ends
	if err := cmd.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
}
