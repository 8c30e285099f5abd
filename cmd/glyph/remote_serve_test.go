package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
)

// remoteProc is a glyph remote running as a child process.
type remoteProc struct {
	cmd     *exec.Cmd
	httpURL string // http(s)://host:port/
	peerURL string
	base    string
	stderr  *strings.Builder
	exited  chan struct{}
}

var servingLine = regexp.MustCompile(`serving at (https?://([^/]+))/ and (wss?://\S+)`)

// startRemoteProc runs the built glyph remote with args and env, and waits
// for the line that says where it serves.
func startRemoteProc(t *testing.T, env []string, args ...string) *remoteProc {
	t.Helper()
	cmd := exec.Command(buildGlyph(t), append([]string{"remote", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &remoteProc{cmd: cmd, stderr: &strings.Builder{}, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		m := servingLine.FindStringSubmatch(line)
		if !ok || m == nil {
			<-p.exited
			t.Fatalf("glyph remote said %q; stderr: %s", line, p.stderr)
		}
		p.base, p.httpURL, p.peerURL = m[1], m[1]+"/", m[3]
		go func() {
			for range lines {
			}
		}()
	case <-time.After(30 * time.Second):
		t.Fatal("glyph remote did not start within 30s")
	}
	return p
}

type lockedWriter struct {
	mu sync.Mutex // guards w
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// One command starts a remote on the embedded store: it answers /readyz,
// clients log in and publish, and SIGTERM stops it.
func TestRemoteCommand(t *testing.T) {
	p := startRemoteProc(t, nil, "--store", "sqlite:"+t.TempDir())
	resp, err := http.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	k, _ := record.NewKeys(time.Now())
	c, err := remote.Dial(context.Background(), p.peerURL, k.Identity, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := newRemoteObject(t, k)
	if _, err := c.Publish(context.Background(), o.update(t)...); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("glyph remote did not stop on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM; stderr: %s", code, p.stderr)
	}
}

// With a certificate it serves TLS.
func TestRemoteCommandTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	p := startRemoteProc(t, nil, "--store", "sqlite:"+filepath.Join(dir, "store"), "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(p.base, "https://") || !strings.HasPrefix(p.peerURL, "wss://") {
		t.Fatalf("serving at %s and %s", p.base, p.peerURL)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz over TLS: %d", resp.StatusCode)
	}
}

// The store's connection string, which may hold a password, comes from
// the environment and never shows in what the command prints.
func TestRemoteCommandStoreSecret(t *testing.T) {
	stdout, stderr, code := glyph(t, "", "remote")
	if code != exitUsage || !strings.Contains(stderr, envRemoteStore) {
		t.Fatalf("without a store: exit %d, %q %q", code, stdout, stderr)
	}
	t.Setenv(envRemoteStore, "postgres://remote:s3cr3t-pw@127.0.0.1:1/objects?connect_timeout=2")
	stdout, stderr, code = glyph(t, "", "remote", "--addr", "127.0.0.1:0")
	if code != exitFailure {
		t.Fatalf("with an unreachable database: exit %d, %q %q", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cr3t") {
		t.Fatalf("the password was printed: %q %q", stdout, stderr)
	}
}

// remoteObject is a dynamic object written through a remote.
type remoteObject struct {
	k    *record.Keys
	key  record.EpochKey
	head *record.Frame
	n    int
}

func newRemoteObject(t *testing.T, k *record.Keys) *remoteObject {
	return &remoteObject{k: k, key: record.NewEpochKey(0)}
}

// update makes the next frame and its content: the records to publish.
func (o *remoteObject) update(t *testing.T) [][]byte {
	t.Helper()
	var c strings.Builder
	addr, err := record.Seal(&c, strings.NewReader(fmt.Sprint("state ", o.n)), o.key, record.WithSegmentSize(record.MinSegmentSize))
	if err != nil {
		t.Fatal(err)
	}
	o.n++
	if o.head == nil {
		o.head, err = record.NewDynamic(o.k.Signer(), addr, time.Time{})
	} else {
		o.head, err = o.head.Next(o.k.Signer(), addr, time.Time{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{[]byte(c.String()), o.head.Bytes()}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "glyph remote test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}
