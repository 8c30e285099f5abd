package peer_test

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// remotePorts returns the sorted ports of p's connections' remotes.
func remotePorts(p *peer.Peer) []string {
	var ports []string
	for _, c := range p.Conns() {
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(c.RemoteAddr(), "tcp://"))
		ports = append(ports, port)
	}
	slices.Sort(ports)
	return ports
}

// portOf returns the port of a "tcp://host:port" address.
func portOf(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// writeAtomically replaces the file at path with content, as a
// deployment tool would: a new file renamed over the old one.
func writeAtomically(t *testing.T, path, content string) {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestResolverFileParses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers")
	writeAtomically(t, path, "# the backends\ntcp://10.0.0.1:7000\n\n  tcp://10.0.0.2:7000   # the second\r\nunix:///run/x.sock\n#tcp://10.0.0.3:7000\n")
	got, err := (&peer.FileResolver{Path: path}).Resolve(context.Background())
	want := []string{"tcp://10.0.0.1:7000", "tcp://10.0.0.2:7000", "unix:///run/x.sock"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Resolve: %q, %v; want %q", got, err, want)
	}
	_, err = (&peer.FileResolver{Path: path + ".missing"}).Resolve(context.Background())
	if kindOf(t, err) != service.KindNotFound {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big")
	os.WriteFile(big, make([]byte, 2<<20), 0o644)
	if _, err := (&peer.FileResolver{Path: big}).Resolve(context.Background()); kindOf(t, err) != service.KindTooLarge {
		t.Errorf("huge file: %v", err)
	}
}

// countingResolver counts the resolutions that failed, so that a test can
// wait until the peer has met a failure.
type countingResolver struct {
	peer.Resolver
	failures atomic.Int64
}

func (r *countingResolver) Resolve(ctx context.Context) ([]string, error) {
	addrs, err := r.Resolver.Resolve(ctx)
	if err != nil {
		r.failures.Add(1)
	}
	return addrs, err
}

// countingWatcher is a countingResolver for a FileResolver, which the
// peer watches.
type countingWatcher struct {
	countingResolver
	fr *peer.FileResolver
}

func (w *countingWatcher) Watch(ctx context.Context) <-chan struct{} { return w.fr.Watch(ctx) }

// TestResolverFile connects a peer "auto" through a watched file and
// rewrites the file: the connections follow.
func TestResolverFile(t *testing.T) {
	var servers []*peer.Peer
	var addrs, ports []string
	for _, name := range []string{"a", "b", "c"} {
		s, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(named(name)))
		servers = append(servers, s)
		addrs = append(addrs, addr)
		ports = append(ports, portOf(t, addr))
	}
	path := filepath.Join(t.TempDir(), "peers")
	writeAtomically(t, path, "# a and b\n"+addrs[0]+"\n"+addrs[1]+"\n")

	client := newPeer(t, fastBackoff)
	// An hour between resolutions: only the watch can see the changes.
	file := &peer.FileResolver{Path: path, Poll: 5 * time.Millisecond}
	fr := &countingWatcher{countingResolver: countingResolver{Resolver: file}, fr: file}
	if err := client.ConnectResolver(fr, time.Hour); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(ports[:2]))
	waitUntil(t, "connected to a and b", func() bool { return slices.Equal(remotePorts(client), want) })

	// A slow call on a, which the change must let finish.
	b := newBlocker()
	slow, slowAddr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(b))
	writeAtomically(t, path, addrs[1]+"\n"+addrs[2]+"\n"+slowAddr+"\n")
	want = slices.Sorted(slices.Values([]string{ports[1], ports[2], portOf(t, slowAddr)}))
	waitUntil(t, "connected to b, c and slow", func() bool { return slices.Equal(remotePorts(client), want) })
	waitUntil(t, "a sees its connection go", func() bool { return len(servers[0].Conns()) == 0 })

	ctx := ctxTimeout(t, 10*time.Second)
	got := make(chan any, 1)
	go func() {
		// Round robin reaches slow within three calls.
		for range 3 {
			v, err := client.Call(ctx, "wait", nil)
			if err == nil {
				got <- v
				return
			}
		}
		got <- "never reached slow"
	}()
	<-b.started
	writeAtomically(t, path, addrs[1]+"\n")
	// c goes; the connection to slow shuts down gracefully: it stays
	// until its call finishes.
	want = slices.Sorted(slices.Values([]string{ports[1], portOf(t, slowAddr)}))
	waitUntil(t, "c is gone", func() bool { return slices.Equal(remotePorts(client), want) })
	holds(t, "the connection with a call in flight on a removed address", 20*time.Millisecond, func() bool { return slices.Equal(remotePorts(client), want) })
	close(b.release)
	if v := <-got; v != "released" {
		t.Errorf("call in flight on a removed address: %v", v)
	}
	waitUntil(t, "only b is left", func() bool { return slices.Equal(remotePorts(client), []string{ports[1]}) })
	waitUntil(t, "slow sees its connection go", func() bool { return len(slow.Conns()) == 0 })

	// A file that cannot be read keeps the connections: once the peer
	// has resolved it and failed, they stay.
	failed := fr.failures.Load()
	os.Remove(path)
	waitUntil(t, "the peer resolves the missing file", func() bool { return fr.failures.Load() > failed })
	holds(t, "the connections after the file went", 30*time.Millisecond, func() bool { return slices.Equal(remotePorts(client), []string{ports[1]}) })
}

// dnsServer answers SRV queries over UDP from a table, as a DNS server
// would; it is built from the wire format of RFC 1035 and RFC 2782.
type dnsServer struct {
	pc   net.PacketConn
	mu   sync.Mutex // guards the fields below
	srv  map[string][]net.SRV
	fail bool // answer SERVFAIL
}

func startDNS(t *testing.T) *dnsServer {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{pc: pc, srv: map[string][]net.SRV{}}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := d.answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return d
}

func (d *dnsServer) set(name string, recs []net.SRV, fail bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if recs == nil {
		delete(d.srv, name)
	} else {
		d.srv[name] = recs
	}
	d.fail = fail
}

// resolver returns a net.Resolver that asks d.
func (d *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", d.pc.LocalAddr().String())
	}}
}

// answer returns the response to the query q, or nil to ignore it.
func (d *dnsServer) answer(q []byte) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	off := 12
	var labels []string
	for {
		if off >= len(q) {
			return nil
		}
		l := int(q[off])
		off++
		if l == 0 {
			break
		}
		if l&0xc0 != 0 || off+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[off:off+l]))
		off += l
	}
	if off+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[off:])
	off += 4
	name := strings.ToLower(strings.Join(labels, ".")) + "."

	d.mu.Lock()
	recs, ok := d.srv[name]
	fail := d.fail
	d.mu.Unlock()
	rcode := 0
	switch {
	case fail:
		rcode = 2 // SERVFAIL
	case !ok:
		rcode = 3 // NXDOMAIN
	case qtype != 33:
		recs = nil // no data of that type
	}
	if rcode != 0 {
		recs = nil
	}
	// Header: the query's id; QR, AA, the query's RD, RA; the counts.
	resp := []byte{q[0], q[1], 0x84 | q[2]&0x01, 0x80 | byte(rcode)}
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(recs)))
	resp = append(resp, 0, 0, 0, 0)
	resp = append(resp, q[12:off]...) // the question
	for _, r := range recs {
		var rdata []byte
		rdata = binary.BigEndian.AppendUint16(rdata, r.Priority)
		rdata = binary.BigEndian.AppendUint16(rdata, r.Weight)
		rdata = binary.BigEndian.AppendUint16(rdata, r.Port)
		for l := range strings.SplitSeq(strings.TrimSuffix(r.Target, "."), ".") {
			rdata = append(rdata, byte(len(l)))
			rdata = append(rdata, l...)
		}
		rdata = append(rdata, 0)
		resp = append(resp, 0xc0, 12) // the name: a pointer to the question's
		resp = binary.BigEndian.AppendUint16(resp, 33)
		resp = binary.BigEndian.AppendUint16(resp, 1)
		resp = binary.BigEndian.AppendUint32(resp, 5) // TTL
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp
}

func srvTo(t *testing.T, addrs ...string) []net.SRV {
	var recs []net.SRV
	for i, a := range addrs {
		port, _ := strconv.Atoi(portOf(t, a))
		recs = append(recs, net.SRV{Target: "localhost.", Port: uint16(port), Priority: uint16(i), Weight: 1})
	}
	return recs
}

func TestResolverSRV(t *testing.T) {
	dns := startDNS(t)
	const name = "_glyph._tcp.example.test."
	var servers []*peer.Peer
	var addrs, ports []string
	for _, n := range []string{"a", "b", "c"} {
		s, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(named(n)))
		servers = append(servers, s)
		addrs = append(addrs, addr)
		ports = append(ports, portOf(t, addr))
	}
	dns.set(name, srvTo(t, addrs[0], addrs[1]), false)
	r := &peer.SRVResolver{Service: "glyph", Proto: "tcp", Name: "example.test.", Resolver: dns.resolver()}
	got, err := r.Resolve(ctxTimeout(t, 5*time.Second))
	want := []string{"tcp://localhost:" + ports[0], "tcp://localhost:" + ports[1]}
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Resolve: %q, %v; want %q", got, err, want)
	}
	ws := &peer.SRVResolver{Name: name, Scheme: "ws", Resolver: dns.resolver()}
	if got, err := ws.Resolve(ctxTimeout(t, 5*time.Second)); err != nil || len(got) != 2 || !strings.HasPrefix(got[0], "ws://localhost:") {
		t.Errorf("Resolve of the name itself, scheme ws: %q, %v", got, err)
	}

	client := newPeer(t, fastBackoff)
	cr := &countingResolver{Resolver: r}
	if err := client.ConnectResolver(cr, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want = slices.Sorted(slices.Values(ports[:2]))
	waitUntil(t, "connected to a and b", func() bool { return slices.Equal(remotePorts(client), want) })
	dns.set(name, srvTo(t, addrs[1], addrs[2]), false)
	want = slices.Sorted(slices.Values(ports[1:]))
	waitUntil(t, "connected to b and c", func() bool { return slices.Equal(remotePorts(client), want) })
	waitUntil(t, "a sees its connection go", func() bool { return len(servers[0].Conns()) == 0 })

	// A failing DNS server keeps the connections.
	dns.set(name, srvTo(t, addrs[1], addrs[2]), true)
	if _, err := r.Resolve(ctxTimeout(t, 5*time.Second)); err == nil {
		t.Error("SERVFAIL resolved")
	}
	failed := cr.failures.Load()
	waitUntil(t, "the peer resolves while DNS fails", func() bool { return cr.failures.Load() > failed })
	holds(t, "the connections while DNS fails", 50*time.Millisecond, func() bool { return slices.Equal(remotePorts(client), want) })
	// A name that no longer exists lets go of every connection.
	dns.set(name, nil, false)
	if got, err := r.Resolve(ctxTimeout(t, 5*time.Second)); err != nil || len(got) != 0 {
		t.Errorf("NXDOMAIN: %q, %v", got, err)
	}
	waitUntil(t, "no connection left", func() bool { return len(client.Conns()) == 0 })
}
