package component_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
)

func TestParseRoutes(t *testing.T) {
	good := `{"Search": {"providers": ["http://10.0.0.1:8080/", "tcp://10.0.0.2:9000"],
	  "balance": "least_pending", "fail": "retry", "retries": 3, "backoff": "50ms"},
	 "Cache": {"providers": ["unix:///run/cache.sock"], "balance": "key", "key": "name"}}`
	rs, err := component.ParseRoutes([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := component.Routes{
		"Search": {Providers: []string{"http://10.0.0.1:8080/", "tcp://10.0.0.2:9000"}, Balance: component.BalanceLeastPending,
			Fail: component.FailRetry, Retries: 3, Backoff: component.Duration(50 * time.Millisecond)},
		"Cache": {Providers: []string{"unix:///run/cache.sock"}, Balance: component.BalanceKey, Key: "name"},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Fatalf("ParseRoutes = %#v", rs)
	}
	bad := []struct{ name, json, want string }{
		{"not json", `{`, "unexpected EOF"},
		{"unknown field", `{"S": {"providers": ["inproc:s"], "weight": 2}}`, "unknown field"},
		{"no providers", `{"S": {"providers": []}}`, "S has no providers"},
		{"bad name", `{"a/b": {"providers": ["inproc:s"]}}`, "invalid interface name"},
		{"unknown balance", `{"S": {"providers": ["inproc:s"], "balance": "random"}}`, `unknown balance "random"`},
		{"key without key", `{"S": {"providers": ["inproc:s"], "balance": "key"}}`, "names no key input"},
		{"unknown fail mode", `{"S": {"providers": ["inproc:s"], "fail": "maybe"}}`, `unknown fail mode "maybe"`},
		{"too many retries", `{"S": {"providers": ["inproc:s"], "retries": 1000}}`, "retries 1000 out of"},
		{"bad backoff", `{"S": {"providers": ["inproc:s"], "backoff": "soon"}}`, "invalid duration"},
		{"negative backoff", `{"S": {"providers": ["inproc:s"], "backoff": "-1s"}}`, "negative backoff"},
		{"a provider twice", `{"S": {"providers": ["inproc:s", "inproc:s"]}}`, "lists inproc:s twice"},
		{"trailing data", `{} {}`, "data after the table"},
		{"too large", `{"S": {"providers": ["` + strings.Repeat("x", 1<<20) + `"]}}`, "more than"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := component.ParseRoutes([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestRoutesFromFileAndEnv(t *testing.T) {
	const table = `{"Echo": {"providers": ["inproc:echo"]}}`
	want := component.Routes{"Echo": {Providers: []string{"inproc:echo"}}}
	path := filepath.Join(t.TempDir(), "routes.json")
	if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	if rs, err := component.ReadRoutes(path); err != nil || !reflect.DeepEqual(rs, want) {
		t.Fatalf("ReadRoutes = %v, %v", rs, err)
	}
	t.Setenv(component.RoutesEnv, table)
	if rs, err := component.RoutesFromEnv(); err != nil || !reflect.DeepEqual(rs, want) {
		t.Fatalf("RoutesFromEnv = %v, %v", rs, err)
	}
	t.Setenv(component.RoutesEnv, `{"Echo": {}}`)
	if _, err := component.RoutesFromEnv(); err == nil || !strings.Contains(err.Error(), "$GLYPH_ROUTES") {
		t.Fatalf("a bad table in the environment: %v", err)
	}
	os.Unsetenv(component.RoutesEnv)
	if rs, err := component.RoutesFromEnv(); err != nil || len(rs) != 0 {
		t.Fatalf("without the variable: %v, %v", rs, err)
	}
}

func FuzzParseRoutes(f *testing.F) {
	f.Add([]byte(`{"Search": {"providers": ["http://h/"], "balance": "key", "key": "q", "backoff": "1s"}}`))
	f.Add([]byte(`{"S": {"providers": ["inproc:s"], "retries": 3, "backoff": 5}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := component.ParseRoutes(data)
		if err != nil {
			return
		}
		if err := rs.Check(); err != nil {
			t.Fatalf("ParseRoutes accepted a table that Check refuses: %v", err)
		}
	})
}

func TestFollowRoutes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.json")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"A": {"providers": ["inproc:a"]}}`)
	r := newRouter(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 10)
	done := make(chan struct{})
	go func() {
		component.FollowRoutes(ctx, r, path, 5*time.Millisecond, func(err error) { errs <- err })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	waitFor := func(name string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for _, ok := r.Routes()[name]; !ok; _, ok = r.Routes()[name] {
			if time.Now().After(deadline) {
				t.Fatalf("the router never routed %s: %v", name, r.Routes())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("A")
	write(`{"A": {"providers": []}}`) // refused: the table stays
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "A has no providers") {
			t.Fatalf("onError got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a bad table was not reported")
	}
	if _, ok := r.Routes()["A"]; !ok {
		t.Fatal("a bad table replaced the good one")
	}
	write(`{"B": {"providers": ["inproc:b"]}}`)
	waitFor("B")
	if _, ok := r.Routes()["A"]; ok {
		t.Fatal("the new table kept A")
	}
}
