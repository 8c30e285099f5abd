package service_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Account is a class whose state travels in its URLs.
type Account struct {
	Owner   string
	Balance int
	//lint:ignore U1000 unexported fields are not state: the tests check that
	secret string
}

func (a Account) Summary() string { return a.Owner + ": " + itoa(a.Balance) }

func (a *Account) Deposit(n int) *Account { a.Balance += n; return a }

func (a *Account) Rename(name string) { a.Owner = name }

func (a Account) Overdrawn() bool { return a.Balance < 0 }

func (a Account) Audit() string { return "audited " + a.Owner }

func (a Account) Covers(amount int) bool { return a.Balance >= amount }

func itoa(n int) string {
	b, _ := wire.Marshal(int64(n))
	return strings.TrimSuffix(strings.TrimPrefix(string(b), "i"), ";")
}

// accountOpts are the options Account needs: names for its parameters.
func accountOpts() []service.ClassOption {
	return []service.ClassOption{
		service.Method("deposit", service.Args("n")),
		service.Method("rename", service.Args("name")),
		service.Method("covers", service.Args("amount")),
	}
}

func accounts(t testing.TB, opts ...service.Option) *service.Service {
	t.Helper()
	s, _ := newLogged(opts...)
	// The tests create accounts of any state, signed or not.
	err := s.Class("Account", Account{}, append(accountOpts(),
		service.ConstructorFromState(),
		service.Method("summary", service.Safe()),
		service.Method("covers", service.Safe()),
		service.Method("overdrawn", service.Inline()),
		service.Method("audit", service.Hidden(), service.Safe()),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stateQuery returns the query of an instance URL with state v.
func stateQuery(t testing.TB, v any) string {
	t.Helper()
	return strings.ReplaceAll(url.QueryEscape(encoded(t, v)), "+", "%20")
}

func TestClassInURL(t *testing.T) {
	s := accounts(t)

	// The constructor: GET shows its form, POST creates and redirects.
	ctor, ok := mustDo(t, s, get("/Account")).Value.(hyper.Form)
	want := []hyper.Input{{Name: "Owner", Type: "unicode"}, {Name: "Balance", Type: "integer"}}
	if !ok || ctor.URL != "/Account" || !reflect.DeepEqual(ctor.Values, want) {
		t.Fatalf("constructor form %#v", ctor)
	}
	res := mustDo(t, s, post("/Account", "Owner", "ada", "Balance", int64(10)))
	if res.Status != service.StatusSeeOther {
		t.Fatalf("constructor: status %v", res.Status)
	}
	loc := res.Location
	if want := "/Account/?" + stateQuery(t, Account{Owner: "ada", Balance: 10}); loc != want {
		t.Fatalf("location %q, want %q", loc, want)
	}
	_, err := do(t, s, post("/Account", "Owner", "ada"))
	wantErr(t, err, service.KindInvalid, `missing argument "Balance"`)

	// The instance: its state and its methods.
	r := resource(t, mustDo(t, s, get(loc)))
	query := loc[strings.Index(loc, "?"):]
	if r.URL != loc || r.Name != "Account" {
		t.Errorf("resource URL %q name %q", r.URL, r.Name)
	}
	var keys []string
	for k := range r.Content {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"Balance", "Owner", "covers", "deposit", "overdrawn", "rename", "summary"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("content keys %v, want %v", keys, want)
	}
	if r.Content["Owner"] != "ada" || r.Content["Balance"] != int64(10) {
		t.Errorf("state %v", r.Content)
	}
	if l, ok := r.Content["summary"].(hyper.Link); !ok || l.URL != "/Account/summary"+query {
		t.Errorf("summary %#v", r.Content["summary"])
	}
	if f, ok := r.Content["deposit"].(hyper.Form); !ok || f.URL != "/Account/deposit"+query || f.HTTPMethod() != "POST" ||
		!reflect.DeepEqual(f.Values, []hyper.Input{{Name: "n", Type: "integer"}}) {
		t.Errorf("deposit %#v", r.Content["deposit"])
	}
	if l, ok := r.Content["overdrawn"].(hyper.Link); !ok || !l.Inline || l.Content != false {
		t.Errorf("overdrawn %#v", r.Content["overdrawn"])
	}

	// A safe method with inputs is a form; POST, since the query holds
	// the state.
	if f, ok := r.Content["covers"].(hyper.Form); !ok || f.URL != "/Account/covers"+query || f.HTTPMethod() != "POST" {
		t.Errorf("covers %#v", r.Content["covers"])
	}
	if value(t, mustDo(t, s, post("/Account/covers"+query, "amount", int64(11)))) != false {
		t.Error("covers 11")
	}

	// Methods.
	if res := mustDo(t, s, get("/Account/summary"+query)); value(t, res) != "ada: 10" || !res.Cacheable {
		t.Errorf("summary: %+v", res)
	}
	if value(t, mustDo(t, s, get("/Account/audit"+query))) != "audited ada" {
		t.Error("a hidden method is not callable")
	}
	after := resource(t, mustDo(t, s, post("/Account/deposit"+query, "n", int64(5))))
	if after.Content["Balance"] != int64(15) || after.URL != "/Account/?"+stateQuery(t, Account{Owner: "ada", Balance: 15}) {
		t.Errorf("after deposit: %#v", after)
	}
	// The server kept nothing: the old URL still has the old state, and a
	// change that is not returned is lost.
	if res := mustDo(t, s, post("/Account/rename"+query, "name", "bob")); res.Status != service.StatusNoContent {
		t.Errorf("rename: status %v", res.Status)
	}
	if r := resource(t, mustDo(t, s, get(loc))); r.Content["Balance"] != int64(10) || r.Content["Owner"] != "ada" {
		t.Errorf("state changed on the server: %v", r.Content)
	}

	// GET on an unsafe method shows its form and calls nothing.
	if f, ok := mustDo(t, s, get("/Account/deposit"+query)).Value.(hyper.Form); !ok || f.URL != "/Account/deposit"+query {
		t.Errorf("GET deposit: %#v", f)
	}

	// Wrong method, wrong name.
	_, err = do(t, s, post(loc))
	wantErr(t, err, service.KindMethodNotAllowed)
	_, err = do(t, s, post("/Account/withdraw"+query))
	wantErr(t, err, service.KindNotFound, `no method "withdraw"`)
	_, err = do(t, s, post("/Account/Deposit"+query, "n", int64(1)))
	wantErr(t, err, service.KindNotFound)
}

func TestConstructor(t *testing.T) {
	s, _ := newLogged()
	err := s.Class("Account", Account{}, append(accountOpts(), service.Constructor(func(owner string) (*Account, error) {
		switch owner {
		case "":
			return nil, service.Errorf(service.KindInvalid, "an account needs an owner")
		case "nobody":
			return nil, nil
		}
		return &Account{Owner: owner, Balance: 100}, nil
	}, service.Args("owner"), service.Default("owner", "")))...)
	if err != nil {
		t.Fatal(err)
	}
	res := mustDo(t, s, post("/Account", "owner", "ada"))
	if res.Status != service.StatusSeeOther || res.Location != "/Account/?"+stateQuery(t, Account{Owner: "ada", Balance: 100}) {
		t.Errorf("constructor: %+v", res)
	}
	_, err = do(t, s, post("/Account"))
	wantErr(t, err, service.KindInvalid, "Account: an account needs an owner")
	_, err = do(t, s, post("/Account", "owner", "nobody"))
	wantErr(t, err, service.KindInternal, "constructor returned nil")
	f := resource(t, mustDo(t, s, get("/"))).Content["Account"].(hyper.Form)
	if !reflect.DeepEqual(f.Values, []hyper.Input{{Name: "owner", Type: "unicode", Default: "", HasDefault: true}}) {
		t.Errorf("constructor form %#v", f)
	}
}

// An empty key, as a missing setting gives, must stop the service at
// start-up rather than leave the state it hands out unsigned.
func TestStateKeyEmpty(t *testing.T) {
	for _, key := range [][]byte{nil, {}} {
		func() {
			defer func() {
				p := recover()
				if msg, _ := p.(string); !strings.Contains(msg, "empty key") {
					t.Errorf("WithStateKey(%#v) panicked with %v, want a panic about the empty key", key, p)
				}
			}()
			service.WithStateKey(key)
		}()
	}
	// The key is copied: changing the caller's slice later changes nothing.
	key := []byte("0123456789abcdef0123456789abcdef")
	s := accounts(t, service.WithStateKey(key))
	url := mustDo(t, s, post("/Account", "Owner", "ada", "Balance", int64(10))).Location
	copy(key, "XXXXXXXXXXXXXXXX")
	if r := resource(t, mustDo(t, s, get(url))); r.URL != url {
		t.Errorf("after the caller's key changed, instance URL %q, want %q", r.URL, url)
	}
}

// With a state key, a class keeping its state in URLs has no constructor
// unless it names one or asks for the default one: a signed URL is then
// the server's word for the state.
func TestSignedStateConstructors(t *testing.T) {
	key := service.WithStateKey([]byte("0123456789abcdef0123456789abcdef"))
	tests := []struct {
		name string
		key  []service.Option
		opts []service.ClassOption
		can  bool // the class is offered and constructs
	}{
		{"signed, no constructor", []service.Option{key}, nil, false},
		{"signed, ConstructorFromState", []service.Option{key}, []service.ClassOption{service.ConstructorFromState()}, true},
		{"signed, a Constructor", []service.Option{key}, []service.ClassOption{service.Constructor(func(owner string) Account { return Account{Owner: owner} }, service.Args("owner"))}, true},
		{"signed, persistent", []service.Option{key}, []service.ClassOption{service.Persistent(nil)}, true},
		{"unsigned", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newLogged(tt.key...)
			if err := s.Class("Account", Account{}, append(accountOpts(), tt.opts...)...); err != nil {
				t.Fatal(err)
			}
			_, offered := resource(t, mustDo(t, s, get("/"))).Content["Account"]
			args := []any{"Owner", "mallory", "Balance", int64(1000000)}
			if tt.name == "signed, a Constructor" {
				args = []any{"owner", "mallory"}
			}
			res, err := do(t, s, post("/Account", args...))
			if !tt.can {
				if offered {
					t.Error("the index offers a class that has no constructor")
				}
				wantErr(t, err, service.KindNotFound, `class "Account" has no constructor`)
				_, err = do(t, s, get("/Account"))
				wantErr(t, err, service.KindNotFound, `class "Account" has no constructor`)
				return
			}
			if !offered || err != nil || res.Status != service.StatusSeeOther {
				t.Errorf("offered %v, POST /Account: %+v, %v", offered, res, err)
			}
		})
	}
	s, _ := newLogged(key)
	err := s.Class("Account", Account{}, append(accountOpts(), service.ConstructorFromState(), service.Constructor(func() Account { return Account{} }))...)
	if err == nil || !strings.Contains(err.Error(), "both given") {
		t.Errorf("Constructor and ConstructorFromState: %v", err)
	}
}

// Signed state is the server's own: a field the class does not have is
// refused, not ignored.
func TestSignedStateUnknownField(t *testing.T) {
	type AccountPlus struct {
		Owner   string
		Balance int
		Admin   bool
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	// Another service with the same key signs a state with one more field.
	other, _ := newLogged(service.WithStateKey(key))
	other.MustClass("Account", AccountPlus{}, service.ConstructorFromState())
	u := mustDo(t, other, post("/Account", "Owner", "ada", "Balance", int64(1), "Admin", true)).Location
	s := accounts(t, service.WithStateKey(key))
	_, err := do(t, s, get(u))
	wantErr(t, err, service.KindInvalid, "Admin is not a state field of Account")
	// Without a key the extra field is ignored, as decoding a struct does.
	plain := accounts(t)
	if r := resource(t, mustDo(t, plain, get("/Account/?"+stateQuery(t, map[string]any{"Owner": "ada", "Balance": int64(1), "Admin": true})))); r.Content["Owner"] != "ada" {
		t.Errorf("unsigned state with an extra field: %v", r.Content)
	}
}

func TestStateTampering(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	signed := accounts(t, service.WithStateKey(key))
	plain := accounts(t)
	good := mustDo(t, signed, post("/Account", "Owner", "ada", "Balance", int64(10))).Location
	if !strings.Contains(good, "~") {
		t.Fatalf("signed URL %q has no signature", good)
	}
	if r := resource(t, mustDo(t, signed, get(good))); r.URL != good {
		t.Errorf("signed instance URL %q, want %q", r.URL, good)
	}
	state, sig, _ := strings.Cut(strings.TrimPrefix(good, "/Account/?"), "~")
	rich := stateQuery(t, Account{Owner: "ada", Balance: 1000000})
	other := accounts(t, service.WithStateKey([]byte("another key, another service....")))
	otherURL := mustDo(t, other, post("/Account", "Owner", "ada", "Balance", int64(10))).Location

	tests := []struct {
		name string
		s    *service.Service
		url  string
		msg  string
	}{
		{"changed state", signed, "/Account/?" + rich + "~" + sig, "signature"},
		{"no signature", signed, "/Account/?" + state, "signature"},
		{"changed signature", signed, "/Account/?" + state + "~" + strings.Repeat("A", len(sig)), "signature"},
		{"other key", signed, otherURL, "signature"},
		{"signed method", signed, "/Account/summary?" + rich + "~" + sig, "signature"},
		{"not glyph", plain, "/Account/?hello", "bad instance state"},
		{"bad escape", plain, "/Account/?%zz", "bad instance state"},
		{"no state", plain, "/Account/", "no state"},
		{"wrong type", plain, "/Account/?" + stateQuery(t, map[string]any{"Balance": "lots"}), "Balance"},
		{"not a dict", plain, "/Account/?" + stateQuery(t, int64(1)), "bad instance state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := do(t, tt.s, get(tt.url))
			wantErr(t, err, service.KindInvalid, tt.msg)
		})
	}
	// Without a key, state that decodes is trusted.
	if r := resource(t, mustDo(t, plain, get("/Account/?"+rich))); r.Content["Balance"] != int64(1000000) {
		t.Errorf("unsigned state: %v", r.Content)
	}
}

// Counter is a class kept on the server.
type Counter struct {
	N    int
	Name string `glyph:"name,optional"`
}

func (c *Counter) Incr() *Counter { c.N++; return c }

func (c *Counter) Add(n int) { c.N += n }

func (c Counter) Get() int { return c.N }

func (c Counter) Twin() Counter { return c }

func (c Counter) Fail() error { return errors.New("no") }

func (c Counter) Plus(n int) int { return c.N + n }

func counters(t testing.TB, store service.Store) *service.Service {
	t.Helper()
	s, _ := newLogged()
	s.MustClass("Counter", Counter{}, service.Persistent(store),
		service.Method("add", service.Args("n"), service.Default("n", 1)),
		service.Method("plus", service.Args("n"), service.Safe()),
		service.Method("get", service.Safe()))
	return s
}

func TestPersistent(t *testing.T) {
	store := service.NewMemoryStore()
	s := counters(t, store)
	loc := mustDo(t, s, post("/Counter", "N", int64(5))).Location
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/Counter/"), "/")
	if !strings.HasPrefix(loc, "/Counter/") || !strings.HasSuffix(loc, "/") || id == "" || strings.ContainsAny(id, "/?") {
		t.Fatalf("location %q", loc)
	}
	if b, err := store.Load(context.Background(), "Counter", id); err != nil || string(b) != encoded(t, Counter{N: 5}) {
		t.Fatalf("stored %q, %v", b, err)
	}

	r := resource(t, mustDo(t, s, get(loc)))
	if r.URL != loc || r.Content["N"] != int64(5) {
		t.Errorf("instance %#v", r)
	}
	if f, ok := r.Content["add"].(hyper.Form); !ok || f.URL != loc+"add" {
		t.Errorf("add %#v", r.Content["add"])
	}

	// A safe method with inputs is a GET form: the URL has no query.
	if f, ok := r.Content["plus"].(hyper.Form); !ok || f.URL != loc+"plus" || f.HTTPMethod() != "GET" {
		t.Errorf("plus %#v", r.Content["plus"])
	}
	if res := mustDo(t, s, getQuery(loc+"plus", "n", int64(2))); value(t, res) != int64(7) || !res.Cacheable {
		t.Errorf("GET plus: %+v", res)
	}
	_, err := do(t, s, call{method: "GET", url: loc + "plus?%zz"})
	wantErr(t, err, service.KindInvalid, "bad query arguments")

	// A method that changes the instance is saved.
	mustDo(t, s, post(loc+"add", "n", int64(10)))
	mustDo(t, s, post(loc+"add"))
	if got := value(t, mustDo(t, s, get(loc+"get"))); got != int64(16) {
		t.Errorf("after add: %v", got)
	}
	// Returning the receiver refers to the same instance.
	if r := resource(t, mustDo(t, s, post(loc+"incr"))); r.URL != loc || r.Content["N"] != int64(17) {
		t.Errorf("incr: %#v", r)
	}
	// Another instance is saved under a new id.
	twin := resource(t, mustDo(t, s, post(loc+"twin")))
	if twin.URL == loc || twin.Content["N"] != int64(17) {
		t.Errorf("twin: %#v", twin)
	}
	mustDo(t, s, post(twin.URL+"incr"))
	if got := value(t, mustDo(t, s, get(loc+"get"))); got != int64(17) {
		t.Errorf("the twin shares state: %v", got)
	}
	// A failed method saves nothing new and reports the error.
	_, err = do(t, s, post(loc+"fail"))
	wantErr(t, err, service.KindInternal, "Counter.fail: no")

	for _, c := range []call{get("/Counter/nope/"), post("/Counter/nope/incr"), get("/Counter//"), get(loc + "nope")} {
		_, err := do(t, s, c)
		wantErr(t, err, service.KindNotFound)
	}
	// The instance URL without its trailing slash works too.
	if r := resource(t, mustDo(t, s, get(strings.TrimSuffix(loc, "/")))); r.URL != loc {
		t.Errorf("without slash: %#v", r)
	}
	_, err = do(t, s, getQuery(loc+"incr", "x", int64(1)))
	wantErr(t, err, service.KindMethodNotAllowed)
	if _, ok := mustDo(t, s, get(loc+"incr")).Value.(hyper.Form); !ok {
		t.Error("GET on an unsafe method of a persistent instance does not show its form")
	}
}

// Calls on one persistent instance run one at a time: no update is lost.
func TestPersistentSerialised(t *testing.T) {
	s := counters(t, nil)
	loc := mustDo(t, s, post("/Counter", "N", int64(0))).Location
	other := mustDo(t, s, post("/Counter", "N", int64(0))).Location
	const n = 50
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); mustDo(t, s, post(loc+"incr")) }()
		go func() { defer wg.Done(); mustDo(t, s, post(other+"add", "n", int64(2))) }()
	}
	wg.Wait()
	if got := value(t, mustDo(t, s, get(loc+"get"))); got != int64(n) {
		t.Errorf("after %d concurrent incr: %v", n, got)
	}
	if got := value(t, mustDo(t, s, get(other+"get"))); got != int64(2*n) {
		t.Errorf("after %d concurrent add: %v", n, got)
	}
}

// failingStore fails every call.
type failingStore struct{}

func (failingStore) Load(context.Context, string, string) ([]byte, error) {
	return nil, errors.New("database down")
}
func (failingStore) Save(context.Context, string, string, []byte) error {
	return errors.New("database down")
}
func (failingStore) Delete(context.Context, string, string) error { return nil }

func TestStoreErrors(t *testing.T) {
	s, logs := newLogged()
	s.MustClass("Counter", Counter{}, service.Persistent(failingStore{}),
		service.Method("add", service.Args("n")), service.Method("plus", service.Args("n")))
	for _, c := range []call{post("/Counter", "N", int64(1)), get("/Counter/x/")} {
		_, err := do(t, s, c)
		wantErr(t, err, service.KindInternal, "database down")
		var e *service.Error
		if !errors.As(err, &e) || e.Logref == "" || !strings.Contains(logs.String(), e.Logref) {
			t.Errorf("%s: logref of %v not logged:\n%s", c.url, err, logs.String())
		}
	}
}

func TestMemoryStore(t *testing.T) {
	var m service.MemoryStore // the zero value is ready
	ctx := context.Background()
	_, err := m.Load(ctx, "C", "1")
	wantErr(t, err, service.KindNotFound)
	state := []byte("D;")
	if err := m.Save(ctx, "C", "1", state); err != nil {
		t.Fatal(err)
	}
	state[0] = 'X'
	b, err := m.Load(ctx, "C", "1")
	if err != nil || string(b) != "D;" {
		t.Fatalf("load %q, %v", b, err)
	}
	b[0] = 'Y'
	if b, _ := m.Load(ctx, "C", "1"); string(b) != "D;" {
		t.Errorf("a caller changed the stored state: %q", b)
	}
	if _, err := m.Load(ctx, "D", "1"); err == nil {
		t.Error("classes share ids")
	}
	if err := m.Delete(ctx, "C", "1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "C", "1"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	_, err = m.Load(ctx, "C", "1")
	wantErr(t, err, service.KindNotFound)
}

// Names is a class whose methods show the snake_case wire names.
type Names struct{}

func (Names) FindUser()        {}
func (Names) ID()              {}
func (Names) HTTPServer()      {}
func (Names) GetHTTPResponse() {}
func (Names) V2Name()          {}
func (Names) Simple()          {}

func TestMethodNames(t *testing.T) {
	s := service.New()
	s.MustClass("Names", Names{})
	r := resource(t, mustDo(t, s, get("/Names/?D%3B")))
	var got []string
	for k := range r.Content {
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{"find_user", "get_http_response", "http_server", "id", "simple", "v2_name"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("method names %v, want %v", got, want)
	}
}

// Shelf's methods return instances in containers.
type Shelf struct{ Size int }

func (s Shelf) Split() []Shelf {
	return []Shelf{{s.Size / 2}, {s.Size - s.Size/2}}
}

func (s Shelf) ByName() map[string]*Shelf { return map[string]*Shelf{"all": &s} }

func TestInstancesInResults(t *testing.T) {
	s := service.New()
	s.MustClass("Shelf", Shelf{})
	loc := mustDo(t, s, post("/Shelf", "Size", int64(5))).Location
	q := loc[strings.Index(loc, "?"):]
	l, ok := value(t, mustDo(t, s, post("/Shelf/split"+q))).([]any)
	if !ok || len(l) != 2 {
		t.Fatalf("split: %#v", l)
	}
	for i, want := range []int64{2, 3} {
		r, ok := l[i].(hyper.Resource)
		if !ok || r.Content["Size"] != want {
			t.Errorf("item %d: %#v", i, l[i])
			continue
		}
		if got := resource(t, mustDo(t, s, get(r.URL))); got.Content["Size"] != want {
			t.Errorf("item %d's URL gives %v", i, got.Content)
		}
	}
	m, ok := value(t, mustDo(t, s, post("/Shelf/by_name"+q))).(map[string]any)
	if r, isRes := m["all"].(hyper.Resource); !ok || !isRes || r.Content["Size"] != int64(5) {
		t.Errorf("by_name: %#v", m)
	}
}

type Tagged struct {
	Sum int `glyph:"total"`
}

func (Tagged) Total() int { return 0 }

type Twins struct{}

func (Twins) FindUser()  {}
func (Twins) Find_user() {} //nolint:revive // the point of the test

type Unnamed struct{}

func (Unnamed) Rename(string) {}

type Embeds struct {
	*hidden
	A int
}

type hidden struct{ B int }

func TestClassRegistrationErrors(t *testing.T) {
	tests := []struct {
		name  string
		proto any
		opts  []service.ClassOption
		msg   string
	}{
		{"not a struct", 42, nil, "must be a struct"},
		{"nil", nil, nil, "must be a struct"},
		{"field and method", Tagged{}, nil, `method Total and a state field share the name "total"`},
		{"two methods", Twins{}, nil, `share the name "find_user"`},
		{"unnamed parameters", Unnamed{}, nil, `service.Method("rename", service.Args(...))`},
		{"Go method name", Account{}, []service.ClassOption{service.Method("Deposit", service.Args("n"))}, `methods are named in snake_case: "deposit"`},
		{"no such method", Account{}, append(accountOpts(), service.Method("withdraw")), `has no method "withdraw"`},
		{"inline with input", Account{}, append(accountOpts(), service.Method("deposit", service.Inline())), `Account.deposit: inline functions take no required inputs ("n" has no default)`},
		{"bad constructor", Account{}, append(accountOpts(), service.Constructor(func() int { return 0 })), "constructor must return"},
		{"constructor args", Account{}, append(accountOpts(), service.Constructor(func(string) Account { return Account{} })), "constructor takes 1 parameter"},
		{"unexported embedded pointer", Embeds{}, nil, `input "B" is a field of the unexported embedded`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := service.New()
			err := s.Class("Account", tt.proto, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one containing %q", err, tt.msg)
			}
			if _, err := do(t, s, get("/Account")); err == nil {
				t.Error("a failed registration left the class registered")
			}
		})
	}

	s := service.New()
	s.MustFunc("taken", func() {})
	s.MustClass("Account", Account{}, accountOpts()...)
	for _, name := range []string{"taken", "Account", "", "a/b", "a b"} {
		if err := s.Class(name, Names{}); err == nil {
			t.Errorf("class name %q accepted", name)
		}
	}
	if err := s.Class("Again", &Account{}, accountOpts()...); err == nil || !strings.Contains(err.Error(), "registered twice") {
		t.Errorf("a type registered twice: %v", err)
	}
}

func TestFuncRegistrationErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   any
		opts []service.FuncOption
		msg  string
	}{
		{"not a function", 42, nil, "not a function"},
		{"nil function", (func())(nil), nil, "not a function"},
		{"unnamed", func(int) {}, nil, "takes 1 parameter(s) but 0 name(s) were given: name them with service.Args"},
		{"too few names", func(int, int) {}, []service.FuncOption{service.Args("a")}, "takes 2 parameter(s) but 1 name(s)"},
		{"names for nothing", func() {}, []service.FuncOption{service.Args("a")}, "takes no parameters, but Args names 1"},
		{"same name twice", func(int, int) {}, []service.FuncOption{service.Args("a", "a")}, `two inputs named "a"`},
		{"empty name", func(int) {}, []service.FuncOption{service.Args("")}, "an input without a name"},
		{"variadic", func(...int) {}, []service.FuncOption{service.Args("a")}, "variadic"},
		{"three results", func() (int, int, error) { return 0, 0, nil }, nil, "at most two results"},
		{"second result", func() (int, int) { return 0, 0 }, nil, "the second result must be error"},
		{"context later", func(int, context.Context) {}, []service.FuncOption{service.Args("a", "ctx")}, "context.Context must be the first parameter"},
		{"default for nothing", func(int) {}, []service.FuncOption{service.Args("a"), service.Default("b", 1)}, `default for unknown input "b"`},
		{"default of the wrong type", func(int) {}, []service.FuncOption{service.Args("a"), service.Default("a", "one")}, `default for "a": expected integer`},
		{"nil default", func(int) {}, []service.FuncOption{service.Args("a"), service.Default("a", nil)}, `default for "a": expected integer, got nil`},
		{"inline with input", func(int) {}, []service.FuncOption{service.Args("a"), service.Inline()}, "inline functions take no required inputs"},
		{"unexported embedded pointer", func(Embeds) {}, nil, "unexported embedded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := service.New()
			err := s.Func("f", tt.fn, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one containing %q", err, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "service: f") {
				t.Errorf("error %q does not name the function", err)
			}
		})
	}

	s := service.New()
	s.MustFunc("f", func() {})
	for _, name := range []string{"f", "", "a/b", "a?b"} {
		if err := s.Func(name, func() {}); err == nil {
			t.Errorf("function name %q accepted", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustFunc did not panic")
		}
	}()
	s.MustFunc("f", func() {})
}

// An inline method with only optional inputs is fine, and it sees the
// instance.
type Temp struct{ C float64 }

func (t Temp) F(precise bool) float64 {
	if precise {
		return t.C*9/5 + 32
	}
	return float64(int(t.C*9/5 + 32))
}

func TestInlineMethod(t *testing.T) {
	s := service.New()
	s.MustClass("Temp", Temp{}, service.Method("f", service.Args("precise"), service.Default("precise", true), service.Inline()))
	loc := mustDo(t, s, post("/Temp", "C", 37.5)).Location
	r := resource(t, mustDo(t, s, get(loc)))
	if l, ok := r.Content["f"].(hyper.Link); !ok || !l.Inline || l.Content != 99.5 {
		t.Errorf("inline method %#v", r.Content["f"])
	}
	if got := value(t, mustDo(t, s, get(strings.Replace(loc, "/?", "/f?", 1)))); got != 99.5 {
		t.Errorf("GET f: %v", got)
	}
}
