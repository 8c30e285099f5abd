// Package js_test runs the tests of the JavaScript client in js/ against
// real glyph servers: node's test runner (TestNode), Chromium
// (TestChromium), and a cross-check of the two codecs on random values
// (TestCrossCheck). They need Node.js 20 or later on PATH, and Chromium
// for TestChromium; without them they skip with one line saying how to
// get them, except under CI=true, where they fail.
package js_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/chatroom"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// servers are the glyph servers the JavaScript tests talk to, on one
// port (so a page served from it may open WebSockets to it): the
// walkthrough service over HTTP at / and to peers at /peer, a chat room
// to peers at /chat/peer, a peer that calls back its caller at
// /back/peer (callBack), the functions of moreService over HTTP at
// /more/, and the files of js/ at /js/.
type servers struct {
	http, peer, chat, back string
}

func startServers(t *testing.T) servers {
	t.Helper()
	svc := walkthrough.V2()
	room := chatroom.New()
	wp := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
	cp := peer.New(peer.WithHandler(hyperpeer.NewHandler(room.Service())))
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(svc))
	mux.Handle("/peer", wp.WebSocketHandler())
	mux.Handle("/chat/peer", cp.WebSocketHandler())
	bp := peer.New(peer.WithHandler(peer.HandlerFunc(callBack)))
	mux.Handle("/back/peer", bp.WebSocketHandler())
	mux.Handle("/more/", hyperhttp.NewHandler(moreService(), hyperhttp.WithRoot("/more/")))
	mux.Handle("/js/", http.StripPrefix("/js/", http.FileServer(http.Dir("."))))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		room.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wp.Shutdown(ctx)
		cp.Shutdown(ctx)
		bp.Shutdown(ctx)
		srv.Close()
	})
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	return servers{http: srv.URL + "/", peer: ws + "/peer", chat: ws + "/chat/peer", back: ws + "/back/peer"}
}

// moreService has what the walkthrough does not show the client: a GET
// form (the query envelope), a blob argument, answers 201, 204 and a raw
// blob body.
func moreService() *service.Service {
	s := service.New(service.WithName("more"))
	s.MustFunc("echo", func(s string) string { return s }, service.Args("s"), service.Safe())
	s.MustFunc("size", func(b *wire.Blob) (string, error) {
		data, err := io.ReadAll(b)
		return fmt.Sprintf("%d bytes of %s", len(data), b.ContentType), err
	}, service.Args("b"))
	s.MustFunc("create", func() service.Created { return service.Created{URL: "/more/echo"} })
	s.MustFunc("nothing", func() {})
	s.MustFunc("file", func() *wire.Blob { return wire.BytesBlob("text/plain; charset=utf-8", []byte("raw body")) })
	return s
}

// callBack serves the method "call": its payload is [method, argument,
// items...]; it calls method on the caller's side of the connection with
// the argument (with no items), or streams the items to it, and answers
// the list of the results, or the call's error as it came.
func callBack(ctx context.Context, s *peer.ServerStream) (any, error) {
	v, err := s.Recv()
	if err != nil {
		return nil, err
	}
	args, _ := v.([]any)
	name, _ := firstString(args)
	if s.Method() != "call" || name == "" {
		return nil, service.Errorf(service.KindNotFound, "method not found: %s (or no method to call back in %v)", s.Method(), v)
	}
	var st *peer.ClientStream
	if len(args) > 2 {
		st, err = s.Conn().NewStream(ctx, name)
		for _, item := range args[2:] {
			if err == nil {
				err = st.Send(item)
			}
		}
		if err == nil {
			err = st.CloseSend()
		}
	} else {
		var arg any
		if len(args) == 2 {
			arg = args[1]
		}
		st, err = s.Conn().CallStream(ctx, name, arg)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	results := []any{}
	for {
		r, err := st.Recv()
		if err == io.EOF {
			return results, nil
		}
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
}

func firstString(xs []any) (string, bool) {
	if len(xs) == 0 {
		return "", false
	}
	s, ok := xs[0].(string)
	return s, ok
}

// enableNode is how to get what the node tests need.
const enableNode = "install Node.js 20 or later (apt-get install nodejs)"

// nodeCommand returns node and the flags that give it a WebSocket
// (Node 20 keeps it behind --experimental-websocket), or skips the test
// without node (fails under CI=true).
func nodeCommand(t testing.TB) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is not on PATH; CI needs it: %s", enableNode)
		}
		t.Skipf("node is not on PATH; to run the JavaScript tests, %s", enableNode)
	}
	out, err := exec.Command(node, "--experimental-websocket", "-p", "typeof WebSocket").Output()
	if err == nil && strings.TrimSpace(string(out)) == "function" {
		return []string{node, "--experimental-websocket"}
	}
	out, err = exec.Command(node, "-p", "typeof WebSocket").Output()
	if err != nil || strings.TrimSpace(string(out)) != "function" {
		t.Fatalf("%s has no WebSocket (%s, %v): the JavaScript tests need Node.js 20 or later", node, bytes.TrimSpace(out), err)
	}
	return []string{node}
}

// TestNode runs the node tests in js/test against the servers, and fails
// when node's test runner does, or skipped a test although the servers
// were there.
func TestNode(t *testing.T) {
	node := nodeCommand(t)
	s := startServers(t)
	files, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in js/test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// One file at a time: the chat room is shared, and the tests count
	// the messages their callbacks get.
	args := append(node[1:], "--test", "--test-concurrency=1", "--test-reporter=tap")
	cmd := exec.CommandContext(ctx, node[0], append(args, files...)...)
	cmd.Env = append(os.Environ(),
		"GLYPH_WALKTHROUGH_URL="+s.http,
		"GLYPH_WALKTHROUGH_PEER_URL="+s.peer,
		"GLYPH_CHAT_PEER_URL="+s.chat,
		"GLYPH_BACK_PEER_URL="+s.back,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	summary := tapSummary(out)
	if summary["pass"] == 0 || summary["fail"] != 0 || summary["skipped"] != 0 || summary["cancelled"] != 0 {
		t.Fatalf("node --test: %v\n%s", summary, out)
	}
	t.Logf("node --test: %d passed", summary["pass"])
}

var tapCount = regexp.MustCompile(`(?m)^# (tests|pass|fail|skipped|cancelled|todo) (\d+)$`)

// tapSummary reads the counts at the end of node's TAP output.
func tapSummary(out []byte) map[string]int {
	m := map[string]int{}
	for _, sub := range tapCount.FindAllSubmatch(out, -1) {
		var n int
		fmt.Sscan(string(sub[2]), &n)
		m[string(sub[1])] = n
	}
	return m
}

// TestTypes compiles test/types.ts, the README's usage with types,
// against index.d.ts with TypeScript's tsc (npm ci in js/ installs it).
func TestTypes(t *testing.T) {
	tsc := filepath.Join("node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		const enable = "cd js && npm ci"
		if os.Getenv("CI") == "true" {
			t.Fatalf("TypeScript is not installed in js/node_modules; CI needs it: %s", enable)
		}
		t.Skipf("TypeScript is not installed in js/node_modules; to check the types: %s", enable)
	}
	nodeCommand(t)
	out, err := exec.Command(tsc, "-p", filepath.Join("test", "tsconfig.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("tsc -p test/tsconfig.json: %v\n%s", err, out)
	}
}
