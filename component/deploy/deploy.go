package deploy

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"
)

// Deployment is a parsed, validated deployment file.
type Deployment struct {
	// Name is the file's name as given to [Parse], which errors name.
	Name string
	// Components are the components in the order the file lists them.
	Components []*Component
	// Groups are the colocation groups in file order.
	Groups []*Group
	// NATS is the URL of the NATS server that components with transport
	// nats use ("nats://127.0.0.1:4222").
	NATS string
	// Secret says how the deployment's secret rotates.
	Secret Secret
}

// Component is one component: an interface served by a binary.
type Component struct {
	Name string // the interface's name: "Search"
	Line int    // where the file declares it
	// Binary is the program that serves the component: a path, relative
	// to the deployment file's directory unless absolute, or a name
	// looked up in PATH.
	Binary string
	// Args are the binary's arguments (never the secret: that travels
	// on an inherited descriptor).
	Args []string
	// Env adds to the environment the supervisor passes down.
	Env map[string]string
	// Dir is the working directory, relative to the file's directory.
	Dir string
	// Replicas is how many processes serve it (1 by default).
	Replicas int
	// Transport is how callers reach it ([TransportUnix] by default).
	Transport Transport
	// Address is where it listens: "host:port" for tcp and http
	// (127.0.0.1:0 by default: a free port), a socket path for unix (a
	// fresh private directory by default), unused for nats.
	Address string
	// Public says the front exposes its public methods.
	Public bool
	// Uses names the components it calls: they start, and are ready,
	// before it starts, and stop after it.
	Uses []string
	// Route is how its callers spread and retry calls.
	Route Route
	// Restart is what the supervisor does when it exits.
	Restart Restart
	// Health is how the supervisor checks it answers.
	Health Health
}

// Transport is how a component's callers reach it.
type Transport string

// The transports.
const (
	TransportUnix Transport = "unix" // the peer protocol over a Unix socket
	TransportTCP  Transport = "tcp"  // the peer protocol over TCP
	TransportHTTP Transport = "http" // hyperglyph over HTTP (and JSON-RPC, XML-RPC, peers at /peer)
	TransportNATS Transport = "nats" // a NATS service on the deployment's NATS server
)

// Route is the calling side of a component's route (see
// component.Route): how calls are spread and what a failed call does.
type Route struct {
	Balance string        // round_robin (default), least_pending, key
	Key     string        // the input that picks the provider when Balance is key
	Fail    string        // over (default), fast, retry
	Retries int           // for fail: retry
	Backoff time.Duration // before the first retry
}

// RestartPolicy says when an exited process is started again.
type RestartPolicy string

// The restart policies.
const (
	RestartAlways    RestartPolicy = "always"     // whatever its exit status (the default)
	RestartOnFailure RestartPolicy = "on-failure" // unless it exited with status 0
	RestartNever     RestartPolicy = "never"
)

// Restart is a component's restart policy and its timings.
type Restart struct {
	Policy RestartPolicy
	// Backoff is the wait before the first restart, doubled (with
	// jitter) for each next one up to MaxBackoff.
	Backoff    time.Duration // default 100ms
	MaxBackoff time.Duration // default 10s
	// Limit is how many starts within Window are allowed before the
	// process is FATAL.
	Limit  int           // default 5
	Window time.Duration // default 60s
	// Stable is how long a ready process must stay up to be RUNNING,
	// which resets its backoff.
	Stable time.Duration // default 1s
	// StopTimeout is how long a stopping process has after SIGTERM
	// before SIGKILL.
	StopTimeout time.Duration // default 5s
}

// Health is how the supervisor checks that a running process answers:
// every Interval it asks the component to describe itself, and Failures
// answers missing in a row (each waited for Timeout) restart it.
type Health struct {
	Interval time.Duration // default 2s
	Timeout  time.Duration // default 1s
	Failures int           // default 3
}

// Secret says how the deployment's secret rotates.
type Secret struct {
	// Rotate is how often the supervisor hands out a new secret; 0 never.
	Rotate time.Duration
	// Grace is how long the previous secret stays accepted after a
	// rotation (default 1m).
	Grace time.Duration
}

// Group is a colocation group: its components run in one process,
// which serves all of them and calls between them in process.
type Group struct {
	Name       string
	Line       int
	Components []string
	Replicas   int // default 1
}

// Process is one kind of process of a deployment: a group, or a
// component that is in none, run Replicas times.
type Process struct {
	Name       string       // the group's name, or the component's
	Components []*Component // what it serves, in file order
	Replicas   int
	// Uses are the processes it depends on, sorted.
	Uses []string
}

// Main returns the component whose settings the process runs with
// (binary, arguments, environment, directory, restart, health): the
// first it serves.
func (p *Process) Main() *Component { return p.Components[0] }

// Component returns the component named name, or nil.
func (d *Deployment) Component(name string) *Component {
	for _, c := range d.Components {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Processes returns the deployment's processes in the order they start:
// every process after those it uses (dependency order, file order among
// equals).
func (d *Deployment) Processes() []*Process {
	order, _ := topo(d.processes())
	return order
}

// processes returns the processes in file order, with what they use.
func (d *Deployment) processes() []*Process {
	byComp := map[string]*Process{}
	var ps []*Process
	for _, g := range d.Groups {
		p := &Process{Name: g.Name, Replicas: g.Replicas}
		for _, c := range d.Components {
			if slices.Contains(g.Components, c.Name) {
				p.Components = append(p.Components, c)
				byComp[c.Name] = p
			}
		}
		ps = append(ps, p)
	}
	for _, c := range d.Components {
		if byComp[c.Name] == nil {
			p := &Process{Name: c.Name, Components: []*Component{c}, Replicas: c.Replicas}
			byComp[c.Name] = p
			ps = append(ps, p)
		}
	}
	// Keep file order: a process's position is its first component's.
	pos := map[*Process]int{}
	for i, c := range d.Components {
		if _, ok := pos[byComp[c.Name]]; !ok {
			pos[byComp[c.Name]] = i
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return pos[ps[i]] < pos[ps[j]] })
	for _, p := range ps {
		for _, c := range p.Components {
			for _, u := range c.Uses {
				if q := byComp[u]; q != p && !slices.Contains(p.Uses, q.Name) {
					p.Uses = append(p.Uses, q.Name)
				}
			}
		}
		sort.Strings(p.Uses)
	}
	return ps
}

// topo orders ps so that each comes after those it uses; with a cycle it
// returns the names on it.
func topo(ps []*Process) ([]*Process, []string) {
	byName := map[string]*Process{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var out []*Process
	var stack []string
	var cycle []string
	var visit func(p *Process) bool
	visit = func(p *Process) bool {
		switch state[p.Name] {
		case done:
			return true
		case visiting:
			i := slices.Index(stack, p.Name)
			cycle = append(slices.Clone(stack[i:]), p.Name)
			return false
		}
		state[p.Name] = visiting
		stack = append(stack, p.Name)
		for _, u := range p.Uses {
			if q := byName[u]; q != nil && !visit(q) {
				return false
			}
		}
		stack = stack[:len(stack)-1]
		state[p.Name] = done
		out = append(out, p)
		return true
	}
	for _, p := range ps {
		if !visit(p) {
			return nil, cycle
		}
	}
	return out, nil
}

// validAddress checks a tcp or http listen address.
func validAddress(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", a)
	}
	if host == "" {
		return fmt.Errorf("want a host (127.0.0.1, or 0.0.0.0 for every interface), got %q", a)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("bad port in %q", a)
	}
	return nil
}

// reservedEnv reports whether the supervisor sets the variable itself.
func reservedEnv(k string) bool {
	return strings.HasPrefix(k, "GLYPH_") || strings.HasPrefix(k, "LISTEN_")
}
