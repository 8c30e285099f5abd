package component

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// Routes is a routing table: interface name → where its providers are.
// It comes from code, from a file ([ReadRoutes]) or from the environment
// ([RoutesFromEnv]), as JSON:
//
//	{"Search": {"providers": ["http://10.0.0.1:8080/", "tcp://10.0.0.2:9000"],
//	            "balance": "least_pending", "fail": "retry", "retries": 3},
//	 "Cache":  {"providers": ["unix:///run/cache.sock"], "balance": "key", "key": "name"}}
type Routes map[string]Route

// Route says where an interface's providers are and how to use them.
type Route struct {
	// Providers are URLs whose scheme picks the transport (see
	// [RegisterScheme]).
	Providers []string `json:"providers"`
	// Balance picks a provider for each call; "" is [BalanceRoundRobin].
	Balance Balance `json:"balance,omitempty"`
	// Key names the input whose argument picks the provider when Balance
	// is [BalanceKey]: every method that has an input of that name routes
	// by it, the others round robin.
	Key string `json:"key,omitempty"`
	// Fail says what a failed call does next; "" is [FailOver].
	Fail FailMode `json:"fail,omitempty"`
	// Retries bounds the further attempts of FailRetry (default 2).
	Retries int `json:"retries,omitempty"`
	// Backoff is the wait before the first retry, doubled for each next
	// one with jitter (default 10ms), as a Go duration ("50ms").
	Backoff Duration `json:"backoff,omitempty"`
}

// Balance is how a route spreads calls over its providers.
type Balance string

// The balancing policies.
const (
	// BalanceRoundRobin takes the providers that are up in turn.
	BalanceRoundRobin Balance = "round_robin"
	// BalanceLeastPending takes the provider with the fewest calls in
	// flight from this router (the first of equals in turn).
	BalanceLeastPending Balance = "least_pending"
	// BalanceKey takes the provider a method's argument (Route.Key)
	// picks by consistent (rendezvous) hashing: a key stays on its
	// provider while providers come and go, except when its own provider
	// goes, and a new provider takes about 1/n of the keys.
	BalanceKey Balance = "key"
)

// FailMode is what a router does when a call fails.
type FailMode string

// The failure modes.
const (
	// FailFast returns the first failure.
	FailFast FailMode = "fast"
	// FailOver tries the next provider, once each, when the call
	// provably was not sent, or when it could not reach its provider and
	// the method is retry-safe.
	FailOver FailMode = "over"
	// FailRetry is FailOver plus retries of retry-safe methods that
	// failed as unavailable or overloaded, after a backoff, within a
	// retry budget.
	FailRetry FailMode = "retry"
)

// Duration is a time.Duration that JSON writes as a Go duration string.
type Duration time.Duration

// MarshalJSON writes d as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string, or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("a duration is a string such as \"50ms\"")
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// RoutesEnv is the environment variable [RoutesFromEnv] reads: the
// routing table as JSON, as a supervisor sets it for its children.
const RoutesEnv = "GLYPH_ROUTES"

// Limits on a routing table read from outside.
const (
	maxRoutesBytes       = 1 << 20
	maxRoutes            = 4096
	maxProvidersPerRoute = 1024
	maxRetries           = 100
)

// ParseRoutes reads a routing table from JSON (see [Routes]) and checks
// it ([Routes.Check]). Input over 1 MiB, 4096 interfaces or 1024
// providers per interface is refused.
func ParseRoutes(data []byte) (Routes, error) {
	if len(data) > maxRoutesBytes {
		return nil, fmt.Errorf("component: routes: %d bytes, more than %d", len(data), maxRoutesBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rs Routes
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("component: routes: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("component: routes: data after the table")
	}
	if err := rs.Check(); err != nil {
		return nil, err
	}
	return rs, nil
}

// ReadRoutes reads a routing table from the JSON file at path (see
// [FollowRoutes] to follow its changes).
func ReadRoutes(path string) (Routes, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return ParseRoutes(b)
}

// RoutesFromEnv reads the routing table from the environment variable
// GLYPH_ROUTES ([RoutesEnv]); unset, it is an empty table.
func RoutesFromEnv() (Routes, error) {
	v, ok := os.LookupEnv(RoutesEnv)
	if !ok {
		return Routes{}, nil
	}
	rs, err := ParseRoutes([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%w (from $%s)", err, RoutesEnv)
	}
	return rs, nil
}

// Check reports the first problem of the table: an invalid interface
// name, a route without providers, an unknown policy, a key route
// without a key, more retries than 100, a negative backoff, or too many
// entries. Provider URLs are checked when they are dialled.
func (rs Routes) Check() error {
	if len(rs) > maxRoutes {
		return fmt.Errorf("component: routes: %d interfaces, more than %d", len(rs), maxRoutes)
	}
	names := make([]string, 0, len(rs))
	for n := range rs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := rs[n]
		switch {
		case !validName(n):
			return fmt.Errorf("component: routes: invalid interface name %q", n)
		case len(r.Providers) == 0:
			return fmt.Errorf("component: routes: %s has no providers", n)
		case len(r.Providers) > maxProvidersPerRoute:
			return fmt.Errorf("component: routes: %s has %d providers, more than %d", n, len(r.Providers), maxProvidersPerRoute)
		case r.Balance != "" && r.Balance != BalanceRoundRobin && r.Balance != BalanceLeastPending && r.Balance != BalanceKey:
			return fmt.Errorf("component: routes: %s: unknown balance %q (round_robin, least_pending, key)", n, r.Balance)
		case r.Balance == BalanceKey && r.Key == "":
			return fmt.Errorf("component: routes: %s balances by key but names no key input", n)
		case r.Fail != "" && r.Fail != FailFast && r.Fail != FailOver && r.Fail != FailRetry:
			return fmt.Errorf("component: routes: %s: unknown fail mode %q (fast, over, retry)", n, r.Fail)
		case r.Retries < 0 || r.Retries > maxRetries:
			return fmt.Errorf("component: routes: %s: retries %d out of 0..%d", n, r.Retries, maxRetries)
		case r.Backoff < 0:
			return fmt.Errorf("component: routes: %s: negative backoff", n)
		}
		seen := map[string]bool{}
		for _, p := range r.Providers {
			if seen[p] {
				return fmt.Errorf("component: routes: %s lists %s twice", n, p)
			}
			seen[p] = true
		}
	}
	return nil
}

// FollowRoutes keeps r's table that of the JSON file at path: it reads
// the file every interval (a second when 0 or less) and, when its content
// changed, parses it ([ParseRoutes]) and sets it ([Router.SetRoutes]). A
// file that cannot be read or parsed leaves the table as it was, and the
// error goes to onError when it is not nil. It returns when ctx ends.
func FollowRoutes(ctx context.Context, r *Router, path string, interval time.Duration, onError func(error)) {
	if interval <= 0 {
		interval = time.Second
	}
	var last []byte
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if b, err := readLimited(path); err != nil {
			report(onError, err)
		} else if !bytes.Equal(b, last) {
			last = b
			rs, err := ParseRoutes(b)
			if err == nil {
				err = r.SetRoutes(rs)
			}
			report(onError, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func report(onError func(error), err error) {
	if err != nil && onError != nil {
		onError(err)
	}
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("component: routes: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRoutesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("component: routes: %w", err)
	}
	return b, nil
}
