package hypernats_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
)

// replicaService answers with its replica's name and counts, per call
// id, how often a call ran, in runs (shared by the replicas).
func replicaService(name string, mu *sync.Mutex, runs map[string]int) *service.Service {
	svc := service.New()
	svc.MustFunc("who", func(id string) string {
		mu.Lock()
		runs[id]++
		mu.Unlock()
		return name
	}, service.Args("id"))
	return svc
}

func TestQueueGroupSharesCalls(t *testing.T) {
	ns := startNATS(t)
	var mu sync.Mutex
	runs := map[string]int{}
	serve(t, connect(t, ns.ClientURL()), replicaService("a", &mu, runs))
	serve(t, connect(t, ns.ClientURL()), replicaService("b", &mu, runs))
	c := hypernats.NewClient(connect(t, ns.ClientURL()))
	defer c.Close()
	const calls = 200
	by := map[string]int{}
	for i := range calls {
		var who string
		if err := c.Call(context.Background(), "who", []any{fmt.Sprint(i)}, nil, &who); err != nil {
			t.Fatal(err)
		}
		by[who]++
	}
	if by["a"]+by["b"] != calls || by["a"] < calls/5 || by["b"] < calls/5 {
		t.Errorf("calls per replica: %v", by)
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("call %s ran %d times", id, n)
		}
	}
}

// A three-node cluster loses the node that the client and one replica
// are connected to: calls go on through the others once the client has
// reconnected; calls that fail meanwhile fail as KindUnavailable, which
// the caller may retry; and no call runs twice.
func TestClusterNodeStops(t *testing.T) {
	nodes := startCluster(t, 3)
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.ClientURL()
	}
	// The first URL is node 1's: connections start there.
	all := strings.Join(urls, ",")
	opts := []nats.Option{nats.DontRandomize(), nats.ReconnectWait(20 * time.Millisecond), nats.ReconnectJitter(0, 0), nats.MaxReconnects(-1)}
	var mu sync.Mutex
	runs := map[string]int{}
	serve(t, connect(t, all, opts...), replicaService("a", &mu, runs))
	serve(t, connect(t, urls[1], opts...), replicaService("b", &mu, runs))
	nc := connect(t, all, opts...)
	if nc.ConnectedUrl() != urls[0] {
		t.Fatalf("the client is on %s, want node 1", nc.ConnectedUrl())
	}
	c := hypernats.NewClient(nc)
	defer c.Close()
	// Both replicas' interest reaches every node.
	time.Sleep(100 * time.Millisecond)

	var stopped atomic.Bool
	var next atomic.Int64
	var okBefore, okAfter, retried atomic.Int64
	var errs sync.Map // error text → kind
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				id := fmt.Sprint(next.Add(1))
				after := stopped.Load()
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := c.Call(ctx, "who", []any{id}, nil, nil)
				cancel()
				switch {
				case err == nil && after:
					okAfter.Add(1)
				case err == nil:
					okBefore.Add(1)
				default:
					errs.Store(err.Error(), service.KindOf(err))
					retried.Add(1)
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	nodes[0].Shutdown()
	stopped.Store(true)
	wg.Wait()

	if okBefore.Load() == 0 || okAfter.Load() < 50 {
		t.Errorf("calls that succeeded: %d before the stop, %d after, want many", okBefore.Load(), okAfter.Load())
	}
	if nc.Stats().Reconnects == 0 || nc.ConnectedUrl() == urls[0] {
		t.Errorf("the client did not reconnect: %d reconnects, on %s", nc.Stats().Reconnects, nc.ConnectedUrl())
	}
	errs.Range(func(msg, kind any) bool {
		if kind != service.KindUnavailable {
			t.Errorf("a call failed with %v: %s, want unavailable (retryable)", kind, msg)
		}
		t.Logf("failed: %s", msg)
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for id, n := range runs {
		if n > 1 {
			t.Errorf("call %s ran %d times", id, n)
		}
	}
	t.Logf("%d calls before the stop, %d after, %d failed and were retried", okBefore.Load(), okAfter.Load(), retried.Load())
}
