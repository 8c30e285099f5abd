package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits on a deployment file.
const (
	MaxBytes      = 1 << 20 // the file
	maxComponents = 256
	maxReplicas   = 64
	maxListItems  = 256
	maxDepth      = 16
	maxNodes      = 100_000
	maxErrors     = 20
)

// Read reads and parses the deployment file at path ([Parse]).
func Read(path string) (*Deployment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse reads a deployment file (spec.md describes the format) and
// validates it. name is the file's name, which every error starts with,
// followed by the line: "deploy.yaml:12: replicas: want a positive
// integer, got -1". Every problem found is reported (up to 20), joined
// with [errors.Join]. Input over 1 MiB is refused; Parse never panics.
func Parse(name string, data []byte) (*Deployment, error) {
	p := &parser{name: name}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", name, len(data), MaxBytes)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: empty file: want a mapping with components", name)
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, fmt.Errorf("%s:%d: one document per file", name, extra.Line)
	}
	if n := countNodes(&doc, 0); n < 0 {
		return nil, fmt.Errorf("%s: nested deeper than %d, aliases included, or more than %d nodes", name, maxDepth, maxNodes)
	}
	d := p.deployment(&doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return d, nil
}

// countNodes returns how many nodes n holds, or -1 past the limits
// (aliases are followed, so a billion laughs counts as what it expands to).
func countNodes(n *yaml.Node, depth int) int {
	if depth > maxDepth {
		return -1
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1
		}
		return countNodes(n.Alias, depth+1)
	}
	total := 1
	for _, c := range n.Content {
		k := countNodes(c, depth+1)
		if k < 0 || total+k > maxNodes {
			return -1
		}
		total += k
	}
	return total
}

type parser struct {
	name string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, fmt.Errorf("%s: more problems not shown", p.name))
	}
	if len(p.errs) > maxErrors {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, args...)))
}

// yamlError turns the YAML library's "yaml: line 3: ..." into
// "name:3: ...".
func (p *parser) yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if _, err := strconv.Atoi(num); err == nil {
				return fmt.Errorf("%s:%s: %s", p.name, num, after)
			}
		}
	}
	return fmt.Errorf("%s: %s", p.name, msg)
}

// resolve follows an alias.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// field is how one key of a mapping is read.
type field func(key, value *yaml.Node)

// mapping reads the mapping n with the fields fs, reporting keys that
// are not among them and keys given twice. what names n in errors.
func (p *parser) mapping(n *yaml.Node, what string, fs map[string]field) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping, got %s", what, kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys are names", what)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "%s: %s given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		f := fs[k.Value]
		if f == nil {
			p.errorf(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(sortedKeys(fs), ", "))
			continue
		}
		f(k, v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (p *parser) str(dst *string, what string) field {
	return func(k, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			p.errorf(v, "%s: want a string, got %s", what, kindName(v))
			return
		}
		*dst = v.Value
	}
}

func (p *parser) boolean(dst *bool, what string) field {
	return func(k, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
			p.errorf(v, "%s: want true or false, got %s", what, kindName(v))
			return
		}
		*dst = v.Value == "true"
	}
}

// count reads an integer in lo..hi.
func (p *parser) count(dst *int, what string, lo, hi int) field {
	return func(k, v *yaml.Node) {
		n, err := strconv.ParseInt(v.Value, 0, 64)
		switch {
		case v.Kind != yaml.ScalarNode || v.Tag != "!!int" || err != nil:
			p.errorf(v, "%s: want an integer, got %s", what, kindName(v))
		case lo == 1 && n < 1:
			p.errorf(v, "%s: want a positive integer, got %d", what, n)
		case n < int64(lo) || n > int64(hi):
			p.errorf(v, "%s: want an integer from %d to %d, got %d", what, lo, hi, n)
		default:
			*dst = int(n)
		}
	}
}

// duration reads a Go duration ("250ms"), positive unless zero is
// allowed.
func (p *parser) duration(dst *time.Duration, what string, zeroOK bool) field {
	return func(k, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "%s: want a duration such as \"500ms\", got %s", what, kindName(v))
			return
		}
		d, err := time.ParseDuration(v.Value)
		switch {
		case err != nil:
			p.errorf(v, "%s: want a duration such as \"500ms\", got %q", what, v.Value)
		case d < 0 || d == 0 && !zeroOK:
			p.errorf(v, "%s: want a positive duration, got %s", what, v.Value)
		case d > 365*24*time.Hour:
			p.errorf(v, "%s: %s is more than a year", what, v.Value)
		default:
			*dst = d
		}
	}
}

// list reads a list of strings.
func (p *parser) list(dst *[]string, what string) field {
	return func(k, v *yaml.Node) {
		if v.Kind != yaml.SequenceNode {
			p.errorf(v, "%s: want a list, got %s", what, kindName(v))
			return
		}
		if len(v.Content) > maxListItems {
			p.errorf(v, "%s: %d items, more than %d", what, len(v.Content), maxListItems)
			return
		}
		out := []string{}
		for _, it := range v.Content {
			it = resolve(it)
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				p.errorf(it, "%s: want strings, got %s", what, kindName(it))
				continue
			}
			out = append(out, it.Value)
		}
		*dst = out
	}
}

// lines remembers where list items were, for later checks.
type lines map[string]*yaml.Node

func itemNodes(v *yaml.Node) lines {
	m := lines{}
	if v.Kind == yaml.SequenceNode {
		for _, it := range v.Content {
			if _, ok := m[it.Value]; !ok {
				m[it.Value] = it
			}
		}
	}
	return m
}

func (p *parser) deployment(doc *yaml.Node) *Deployment {
	d := &Deployment{Name: p.name, Secret: Secret{Grace: time.Minute}}
	root := resolve(doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	version, versionSet := 0, false
	var compsNode, groupsNode *yaml.Node
	p.mapping(root, "the file", map[string]field{
		"version": func(k, v *yaml.Node) {
			versionSet = true
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				p.errorf(v, "version: this is version 1 of the format, the file says %s", kindName(v))
			}
			version = 1
		},
		"nats": func(k, v *yaml.Node) {
			p.str(&d.NATS, "nats")(k, v)
			if u, err := url.Parse(d.NATS); d.NATS != "" && (err != nil || u.Scheme != "nats" || u.Host == "") {
				p.errorf(v, "nats: want a URL such as nats://127.0.0.1:4222, got %q", d.NATS)
			}
		},
		"secret": func(k, v *yaml.Node) {
			p.mapping(v, "secret", map[string]field{
				"rotate": p.duration(&d.Secret.Rotate, "secret.rotate", true),
				"grace":  p.duration(&d.Secret.Grace, "secret.grace", false),
			})
		},
		"components": func(k, v *yaml.Node) { compsNode = v },
		"groups":     func(k, v *yaml.Node) { groupsNode = v },
	})
	if len(p.errs) > 0 && root.Kind != yaml.MappingNode {
		return nil
	}
	if !versionSet && version == 0 {
		p.errorf(root, "version: missing (write version: 1)")
	}
	uses := map[*Component]lines{}
	if compsNode == nil {
		p.errorf(root, "components: missing")
	} else if compsNode.Kind != yaml.MappingNode {
		p.errorf(compsNode, "components: want a mapping of names to components, got %s", kindName(compsNode))
	} else {
		if len(compsNode.Content)/2 > maxComponents {
			p.errorf(compsNode, "components: %d, more than %d", len(compsNode.Content)/2, maxComponents)
			return nil
		}
		if len(compsNode.Content) == 0 {
			p.errorf(compsNode, "components: none")
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(compsNode.Content); i += 2 {
			k, v := compsNode.Content[i], resolve(compsNode.Content[i+1])
			if !validName(k.Value) {
				p.errorf(k, "component %q: a name is letters, digits, _ and -, starting with a letter", k.Value)
				continue
			}
			if seen[k.Value] {
				p.errorf(k, "component %s given twice", k.Value)
				continue
			}
			seen[k.Value] = true
			c, u := p.component(k, v, d)
			d.Components = append(d.Components, c)
			uses[c] = u
		}
	}
	if groupsNode != nil {
		p.groups(groupsNode, d)
	}
	p.check(d, uses, root)
	return d
}

func validName(s string) bool {
	if s == "" || len(s) > 128 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (p *parser) component(k, v *yaml.Node, d *Deployment) (*Component, lines) {
	c := &Component{Name: k.Value, Line: k.Line, Replicas: 1, Transport: TransportUnix,
		Restart: Restart{Policy: RestartAlways, Backoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second,
			Limit: 5, Window: time.Minute, Stable: time.Second, StopTimeout: 5 * time.Second},
		Health: Health{Interval: 2 * time.Second, Timeout: time.Second, Failures: 3}}
	var usesLines lines
	at := c.Name + "."
	var transportNode, addressNode, replicasNode *yaml.Node
	binarySet := false
	p.mapping(v, "component "+c.Name, map[string]field{
		"binary": func(k, v *yaml.Node) {
			binarySet = true
			p.str(&c.Binary, at+"binary")(k, v)
			if c.Binary == "" && v.Kind == yaml.ScalarNode {
				p.errorf(v, "%sbinary: empty", at)
			}
		},
		"args": p.list(&c.Args, at+"args"),
		"env": func(k, v *yaml.Node) {
			c.Env = map[string]string{}
			if v.Kind != yaml.MappingNode {
				p.errorf(v, "%senv: want a mapping, got %s", at, kindName(v))
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				ek, ev := v.Content[i], resolve(v.Content[i+1])
				switch {
				case ek.Value == "" || strings.ContainsAny(ek.Value, "=\x00"):
					p.errorf(ek, "%senv: %q is not a variable name", at, ek.Value)
				case reservedEnv(ek.Value):
					p.errorf(ek, "%senv: %s is set by the supervisor (GLYPH_* and LISTEN_* are reserved)", at, ek.Value)
				case ev.Kind != yaml.ScalarNode || strings.Contains(ev.Value, "\x00"):
					p.errorf(ev, "%senv.%s: want a string, got %s", at, ek.Value, kindName(ev))
				default:
					c.Env[ek.Value] = ev.Value
				}
			}
		},
		"dir":      p.str(&c.Dir, at+"dir"),
		"replicas": func(k, v *yaml.Node) { replicasNode = v; p.count(&c.Replicas, at+"replicas", 1, maxReplicas)(k, v) },
		"transport": func(k, v *yaml.Node) {
			transportNode = v
			var s string
			p.str(&s, at+"transport")(k, v)
			switch Transport(s) {
			case TransportUnix, TransportTCP, TransportHTTP, TransportNATS:
				c.Transport = Transport(s)
			default:
				if v.Kind == yaml.ScalarNode {
					p.errorf(v, "%stransport: want unix, tcp, http or nats, got %q", at, s)
				}
			}
		},
		"address": func(k, v *yaml.Node) { addressNode = v; p.str(&c.Address, at+"address")(k, v) },
		"public":  p.boolean(&c.Public, at+"public"),
		"uses":    func(k, v *yaml.Node) { p.list(&c.Uses, at+"uses")(k, v); usesLines = itemNodes(v) },
		"route": func(k, v *yaml.Node) {
			p.mapping(v, at+"route", map[string]field{
				"balance": func(k, v *yaml.Node) {
					p.str(&c.Route.Balance, at+"route.balance")(k, v)
					if b := c.Route.Balance; b != "round_robin" && b != "least_pending" && b != "key" {
						p.errorf(v, "%sroute.balance: want round_robin, least_pending or key, got %q", at, b)
					}
				},
				"key": p.str(&c.Route.Key, at+"route.key"),
				"fail": func(k, v *yaml.Node) {
					p.str(&c.Route.Fail, at+"route.fail")(k, v)
					if f := c.Route.Fail; f != "fast" && f != "over" && f != "retry" {
						p.errorf(v, "%sroute.fail: want fast, over or retry, got %q", at, f)
					}
				},
				"retries": p.count(&c.Route.Retries, at+"route.retries", 0, 100),
				"backoff": p.duration(&c.Route.Backoff, at+"route.backoff", false),
			})
			if c.Route.Balance == "key" && c.Route.Key == "" {
				p.errorf(v, "%sroute: balance key needs a key (the input that picks the provider)", at)
			}
		},
		"restart": func(k, v *yaml.Node) {
			r := &c.Restart
			p.mapping(v, at+"restart", map[string]field{
				"policy": func(k, v *yaml.Node) {
					var s string
					p.str(&s, at+"restart.policy")(k, v)
					switch RestartPolicy(s) {
					case RestartAlways, RestartOnFailure, RestartNever:
						r.Policy = RestartPolicy(s)
					default:
						if v.Kind == yaml.ScalarNode {
							p.errorf(v, "%srestart.policy: want always, on-failure or never, got %q", at, s)
						}
					}
				},
				"backoff":      p.duration(&r.Backoff, at+"restart.backoff", false),
				"max_backoff":  p.duration(&r.MaxBackoff, at+"restart.max_backoff", false),
				"limit":        p.count(&r.Limit, at+"restart.limit", 1, math.MaxInt32),
				"window":       p.duration(&r.Window, at+"restart.window", false),
				"stable":       p.duration(&r.Stable, at+"restart.stable", true),
				"stop_timeout": p.duration(&r.StopTimeout, at+"restart.stop_timeout", false),
			})
			if r.MaxBackoff < r.Backoff {
				p.errorf(v, "%srestart: max_backoff %s is less than backoff %s", at, r.MaxBackoff, r.Backoff)
			}
		},
		"health": func(k, v *yaml.Node) {
			h := &c.Health
			p.mapping(v, at+"health", map[string]field{
				"interval": p.duration(&h.Interval, at+"health.interval", false),
				"timeout":  p.duration(&h.Timeout, at+"health.timeout", false),
				"failures": p.count(&h.Failures, at+"health.failures", 1, 1000),
			})
		},
	})
	if !binarySet && v.Kind == yaml.MappingNode {
		p.errorf(k, "component %s: binary: missing", c.Name)
	}
	switch c.Transport {
	case TransportTCP, TransportHTTP:
		if c.Address == "" {
			c.Address = "127.0.0.1:0"
		} else if err := validAddress(c.Address); err != nil {
			p.errorf(addressNode, "%saddress: %v", at, err)
		} else if _, port, _ := strings.Cut(c.Address, ":"); c.Replicas > 1 && port != "0" {
			p.errorf(replicasNode, "%sreplicas: %d processes cannot all listen on %s (use port 0)", at, c.Replicas, c.Address)
		}
	case TransportUnix:
		if c.Address != "" && c.Replicas > 1 {
			p.errorf(replicasNode, "%sreplicas: %d processes cannot all listen on one socket path (leave address out)", at, c.Replicas)
		}
		if len(c.Address) > 100 {
			p.errorf(addressNode, "%saddress: a socket path of %d bytes is too long", at, len(c.Address))
		}
	case TransportNATS:
		if c.Address != "" {
			p.errorf(addressNode, "%saddress: a nats component listens on no address (set nats: at the top)", at)
		}
		if d.NATS == "" {
			p.errorf(transportNode, "%stransport: nats needs the NATS server's URL (nats: at the top)", at)
		}
	}
	return c, usesLines
}

func (p *parser) groups(n *yaml.Node, d *Deployment) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "groups: want a mapping of names to groups, got %s", kindName(n))
		return
	}
	in := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		g := &Group{Name: k.Value, Line: k.Line, Replicas: 1}
		if !validName(g.Name) {
			p.errorf(k, "group %q: a name is letters, digits, _ and -, starting with a letter", g.Name)
			continue
		}
		if d.Component(g.Name) != nil || slices.ContainsFunc(d.Groups, func(o *Group) bool { return o.Name == g.Name }) {
			p.errorf(k, "group %s: the name is taken", g.Name)
			continue
		}
		var members lines
		p.mapping(v, "group "+g.Name, map[string]field{
			"components": func(k, v *yaml.Node) { p.list(&g.Components, g.Name+".components")(k, v); members = itemNodes(v) },
			"replicas":   p.count(&g.Replicas, g.Name+".replicas", 1, maxReplicas),
		})
		if len(g.Components) < 2 && v.Kind == yaml.MappingNode {
			p.errorf(k, "group %s: a group colocates two or more components", g.Name)
		}
		var first *Component
		for _, m := range g.Components {
			c := d.Component(m)
			switch {
			case c == nil:
				p.errorf(members[m], "%s.components: no component %s", g.Name, m)
			case in[m] != "":
				p.errorf(members[m], "%s.components: %s is in group %s already", g.Name, m, in[m])
			case c.Transport == TransportNATS:
				p.errorf(members[m], "%s.components: %s is served over nats, which a group's process does not listen for", g.Name, m)
			default:
				in[m] = g.Name
				if first == nil {
					first = c
				} else if c.Binary != first.Binary {
					p.errorf(members[m], "%s.components: %s runs %s but %s runs %s: a group is one binary", g.Name, m, c.Binary, first.Name, first.Binary)
				}
				if c.Replicas != 1 {
					p.errorf(members[m], "%s.components: %s sets replicas; a group's members take the group's", g.Name, m)
				}
			}
		}
		d.Groups = append(d.Groups, g)
	}
}

// check finds what spans components: uses that name nothing, cycles.
func (p *parser) check(d *Deployment, uses map[*Component]lines, root *yaml.Node) {
	for _, c := range d.Components {
		for _, u := range c.Uses {
			switch {
			case u == c.Name:
				p.errorf(uses[c][u], "%s.uses: a component does not use itself", c.Name)
			case d.Component(u) == nil:
				p.errorf(uses[c][u], "%s.uses: no component %s", c.Name, u)
			}
		}
	}
	if len(p.errs) > 0 {
		return
	}
	if _, cycle := topo(d.processes()); cycle != nil {
		at := &yaml.Node{Line: root.Line}
		if c := d.Component(cycle[0]); c != nil {
			at.Line = c.Line
		}
		for _, g := range d.Groups {
			if g.Name == cycle[0] {
				at.Line = g.Line
			}
		}
		p.errorf(at, "%s.uses: a cycle: %s", cycle[0], strings.Join(cycle, " → "))
	}
}
