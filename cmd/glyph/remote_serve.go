package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/pgstore"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/spf13/cobra"
)

// Environment variables of glyph remote: secrets stay out of argv.
const (
	envRemoteStore      = "GLYPH_REMOTE_STORE"
	envRemoteSessionKey = "GLYPH_REMOTE_SESSION_KEY"
)

// remoteServeFlags are the flags of glyph remote.
type remoteServeFlags struct {
	addr, store, name string
	tlsCert, tlsKey   string
	quota             store.Quota
	gcInterval        time.Duration
	uploadDir         string
	maxUploads        int
	maxUploadBytes    int64
	uploadTTL         time.Duration
	level             slog.Level
}

func newRemoteCommand() *cobra.Command {
	f := remoteServeFlags{level: slog.LevelInfo}
	cmd := &cobra.Command{
		Use:   "remote --store sqlite:DIR | postgres://...",
		Short: "Serve a persistence server for shared objects",
		Long: `remote serves a persistence server ("remote") for glyph's shared objects
(package objects/remote): it verifies and keeps the encrypted, signed records
of the identities that log in, and streams their changes to subscribers. It
never sees plaintext.

One port serves the remote over HTTP at /, to peers over WebSocket at /peer,
and /healthz and /readyz for load balancers. With --tls-cert and --tls-key it
serves HTTPS and WSS.

The store is --store, or the environment variable ` + envRemoteStore + ` (so
that a PostgreSQL password stays out of the command line):
  sqlite:DIR                   an embedded store in the directory DIR (created
                               when missing), for one process
  postgres://USER@HOST/DB?...  a PostgreSQL database, which several remotes may
                               share (give them one session key)

Sessions are signed with a random key unless ` + envRemoteSessionKey + ` holds
one (at least 32 bytes): remotes with the same key accept each other's sessions.

Clients check the server's name when they log in: --name, by default the
address it listens on; give the host:port clients dial when that differs.

Containers larger than one call may carry are uploaded in chunks into
--upload-dir (by default DIR/uploads of a sqlite:DIR store, else a temporary
directory); restarted with the same directory and session key, the remote
resumes the uploads it acknowledged.`,
		Example: `  glyph remote --store sqlite:./remote-data
  GLYPH_REMOTE_STORE=postgres://remote:secret@db/objects glyph remote --addr :7770 --name objects.example:7770
  glyph remote --store sqlite:/var/lib/glyph --tls-cert cert.pem --tls-key key.pem --addr :443`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if f.store == "" {
				f.store = os.Getenv(envRemoteStore)
			}
			if f.store == "" {
				return usageErrorf("give the store with --store or %s", envRemoteStore)
			}
			if (f.tlsCert == "") != (f.tlsKey == "") {
				return usageErrorf("give both --tls-cert and --tls-key, or neither")
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: f.level})))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveRemote(ctx, cmd.OutOrStdout(), f)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:7770", "where to listen (port 0: any free port)")
	fs.StringVar(&f.store, "store", "", "the store: sqlite:DIR or a postgres:// URL (default $"+envRemoteStore+")")
	fs.StringVar(&f.name, "name", "", "the server's name that clients check (default: the address it listens on)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve TLS with the certificate (chain) in this PEM file")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert, a PEM file")
	fs.Int64Var(&f.quota.Bytes, "quota-bytes", 0, "bytes each identity may store (0: unlimited)")
	fs.Int64Var(&f.quota.Records, "quota-records", 0, "records each identity may store (0: unlimited)")
	fs.DurationVar(&f.gcInterval, "gc-interval", time.Hour, "collect what nothing keeps alive this often (0: never)")
	fs.StringVar(&f.uploadDir, "upload-dir", "", "keep the chunks of uploads in this directory (default: DIR/uploads of sqlite:DIR, else a temporary one)")
	fs.IntVar(&f.maxUploads, "max-uploads", remote.DefaultMaxUploads, "uploads each identity may have open at once")
	fs.Int64Var(&f.maxUploadBytes, "max-upload-bytes", remote.DefaultMaxUploadBytes, "bytes of the open uploads of each identity, added up (also the largest container)")
	fs.DurationVar(&f.uploadTTL, "upload-ttl", remote.DefaultUploadTTL, "drop an upload nothing appended to for this long")
	fs.TextVar(&f.level, "log-level", f.level, "log on stderr from this `level`: debug, info (failed calls), warn or error")
	cmd.MarkFlagFilename("tls-cert", "pem", "crt")
	cmd.MarkFlagFilename("tls-key", "pem", "key")
	return cmd
}

// openRemoteStore opens the store a --store value names. Its errors never
// repeat the value, which may hold a password.
func openRemoteStore(ctx context.Context, spec string, opts ...store.Option) (store.Store, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		dir := strings.TrimPrefix(spec, "sqlite:")
		if dir == "" {
			return nil, usageErrorf("sqlite: needs a directory, as in sqlite:./remote-data")
		}
		return sqlitestore.Open(ctx, dir, opts...)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		st, err := pgstore.Open(ctx, spec, opts...)
		if err != nil {
			return nil, fmt.Errorf("opening the PostgreSQL store: %w", err)
		}
		return st, nil
	}
	return nil, usageErrorf("the store is sqlite:DIR or a postgres:// URL")
}

// serveRemote serves a remote until ctx ends, then shuts it down.
func serveRemote(ctx context.Context, w io.Writer, f remoteServeFlags) error {
	var sopts []store.Option
	if f.quota != (store.Quota{}) {
		sopts = append(sopts, store.WithDefaultQuota(f.quota))
	}
	st, err := openRemoteStore(ctx, f.store, sopts...)
	if err != nil {
		return err
	}
	defer st.Close()

	var tlsConfig *tls.Config
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	name := f.name
	if name == "" {
		name = ln.Addr().String()
	}
	ropts := []remote.Option{
		remote.WithUploadLimits(f.maxUploads, f.maxUploadBytes),
		remote.WithUploadTTL(f.uploadTTL),
	}
	if key := os.Getenv(envRemoteSessionKey); key != "" {
		ropts = append(ropts, remote.WithSessionKey([]byte(key)))
	}
	uploadDir := f.uploadDir
	if dir, ok := strings.CutPrefix(f.store, "sqlite:"); ok && uploadDir == "" {
		uploadDir = filepath.Join(dir, "uploads")
	}
	if uploadDir != "" {
		ropts = append(ropts, remote.WithUploadDir(uploadDir))
	}
	srv, err := remote.New(st, name, ropts...)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	hs := hyperhttp.NewServer("", srv.Handler())
	// The default connection limits, refusals answered over TLS too.
	ln = hyperhttp.LimitListener(ln, hyperhttp.ConnLimits{TLS: tlsConfig})
	scheme, peerScheme := "http", "ws"
	if tlsConfig != nil {
		scheme, peerScheme = "https", "wss"
		ln = tls.NewListener(ln, tlsConfig)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(w, "glyph remote %s serving at %s://%s/ and %s://%s/peer\n", name, scheme, ln.Addr(), peerScheme, ln.Addr())

	if f.gcInterval > 0 {
		go collect(ctx, st, f.gcInterval)
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Close() // ends the peer connections, and their subscriptions, now
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(w, "Stopped.")
	return nil
}

// collect runs the store's GC every interval until ctx ends.
func collect(ctx context.Context, st store.Store, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			stats, err := st.GC(ctx)
			if err != nil {
				slog.Warn("glyph remote: GC failed", "error", err)
				continue
			}
			slog.Info("glyph remote: GC", "records", stats.Records, "bytes", stats.Bytes)
		}
	}
}
