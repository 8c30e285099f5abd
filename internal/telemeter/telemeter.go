// Package telemeter is the Telemeter, the shared objects' tutorial
// application: a telemeter publishes its host's status into a dynamic
// object on an interval; a monitor pairs with it by sharing a pairing
// object, and gets the status object shared back; the telemeter trusts
// the first identity that pairs and ignores the others; the monitor
// changes the interval through a shared settings object. Both talk only
// to their local daemon (package objects/link). examples/telemeter runs
// either side; glyph demo telemeter runs both on one machine.
package telemeter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/link"
	"github.com/glyph-ipc/glyph/objects/record"
)

// The API ids of the Telemeter's objects.
const (
	APIPair     = "glyph.telemeter.pair"
	APIStatus   = "glyph.telemeter.status"
	APISettings = "glyph.telemeter.settings"
)

// Status is a host's status, the state of the status object.
type Status struct {
	Host     string    `json:"host"`
	CPU      float64   `json:"cpu"`       // busy fraction of all CPUs since the last sample
	MemUsed  uint64    `json:"mem_used"`  // bytes
	MemTotal uint64    `json:"mem_total"` // bytes
	Load1    float64   `json:"load1"`     // one-minute load average
	At       time.Time `json:"at"`
	Seq      int       `json:"seq"` // the sample's number, from 1
}

// String formats the status for a person.
func (s Status) String() string {
	return fmt.Sprintf("%s #%d: cpu %.1f%%, memory %.2f/%.2f GiB, load %.2f", s.Host, s.Seq, 100*s.CPU,
		float64(s.MemUsed)/(1<<30), float64(s.MemTotal)/(1<<30), s.Load1)
}

// Settings is the state of the settings object the monitor owns.
type Settings struct {
	IntervalMS int `json:"interval_ms"`
}

// Interval returns the settings' interval, at least 10 ms.
func (s Settings) Interval() time.Duration {
	return max(time.Duration(s.IntervalMS)*time.Millisecond, 10*time.Millisecond)
}

// Pair is the state of the pairing object a monitor shares: the settings
// object the telemeter is to follow.
type Pair struct {
	Settings string `json:"settings"`
}

// Telemeter publishes its host's status for the first identity that
// pairs with it.
type Telemeter struct {
	l      *link.Link
	log    func(string)
	sample func() (Status, error)

	mu       sync.Mutex // guards trusted, status, interval
	trusted  record.Address
	status   *link.Object[Status]
	interval time.Duration
	changed  chan struct{} // closed and replaced when the interval changes
}

// NewTelemeter returns a telemeter on the link l, which logs what it does
// to log and publishes every interval (until a monitor sets another) what
// sample reads (a [Sampler]'s Sample, usually).
func NewTelemeter(l *link.Link, interval time.Duration, sample func() (Status, error), log func(string)) *Telemeter {
	return &Telemeter{l: l, log: log, sample: sample, interval: interval, changed: make(chan struct{})}
}

// Run handles pairings and publishes the status until ctx ends.
func (t *Telemeter) Run(ctx context.Context) error {
	pairs := make(chan link.Share, 8)
	if err := t.l.HandleShares(ctx, APIPair, func(s link.Share) { pairs <- s }); err != nil {
		return err
	}
	t.log("telemeter: waiting for a monitor to pair")
	seq := 0
	timer := time.NewTimer(t.Interval())
	defer timer.Stop()
	for {
		t.mu.Lock()
		changed := t.changed
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case s := <-pairs:
			if err := t.pair(ctx, s); err != nil {
				t.log("telemeter: pairing failed: " + err.Error())
			}
		case <-changed:
			timer.Reset(t.Interval())
		case <-timer.C:
			timer.Reset(t.Interval())
			t.mu.Lock()
			status := t.status
			t.mu.Unlock()
			if status == nil {
				continue
			}
			st, err := t.sample()
			if err != nil {
				t.log("telemeter: " + err.Error())
				continue
			}
			seq++
			st.Seq, st.At = seq, time.Now().UTC()
			if err := status.Push(ctx, st); err != nil && ctx.Err() == nil {
				t.log("telemeter: push: " + err.Error())
			}
		}
	}
}

// Interval returns the interval the telemeter publishes at.
func (t *Telemeter) Interval() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.interval
}

// pair takes a pairing: from the first identity, it follows the settings
// the pairing names and shares the status object back; from any other,
// it is ignored.
func (t *Telemeter) pair(ctx context.Context, s link.Share) error {
	t.mu.Lock()
	trusted := t.trusted
	t.mu.Unlock()
	if !trusted.IsZero() && trusted != s.From {
		t.log(fmt.Sprintf("telemeter: ignored a pairing from %s (paired with %s)", short(s.From), short(trusted)))
		return nil
	}
	p, err := link.Get(ctx, t.l, link.JSON[Pair](), s.ID)
	if err != nil {
		return err
	}
	sid, err := record.ParseAddress(p.State().Settings)
	if err != nil {
		return fmt.Errorf("the pairing names no settings object: %w", err)
	}
	settings, err := link.Get(ctx, t.l, link.JSON[Settings](), sid)
	if err != nil {
		return err
	}
	if settings.Info().Owner != s.From.String() {
		return fmt.Errorf("the settings object is not the monitor's")
	}
	follow := func(o *link.Object[Settings]) {
		d := o.State().Interval()
		t.mu.Lock()
		old := t.interval
		t.interval = d
		if d != old {
			close(t.changed)
			t.changed = make(chan struct{})
		}
		t.mu.Unlock()
		if d != old {
			t.log(fmt.Sprintf("telemeter: interval now %v", d))
		}
	}
	if err := settings.Watch(ctx, link.Callbacks[Settings]{Update: follow}); err != nil {
		return err
	}
	status, err := link.New(ctx, t.l, link.JSON[Status](), APIStatus, Status{})
	if err != nil {
		return err
	}
	if err := status.Share(ctx, s.From); err != nil {
		return err
	}
	t.mu.Lock()
	t.trusted, t.status = s.From, status
	t.mu.Unlock()
	t.log(fmt.Sprintf("telemeter: paired with %s (trusted on first pairing); status object shared", short(s.From)))
	follow(settings)
	return nil
}

// Monitor pairs with a telemeter and reports its status.
type Monitor struct {
	l        *link.Link
	log      func(string)
	settings *link.Object[Settings]
}

// NewMonitor returns a monitor on the link l that logs to log.
func NewMonitor(l *link.Link, log func(string)) *Monitor { return &Monitor{l: l, log: log} }

// Pair shares a settings object (with interval) and a pairing object
// with the telemeter's identity, and calls onStatus with each status the
// telemeter publishes from then on, until ctx ends.
func (m *Monitor) Pair(ctx context.Context, telemeter record.Address, interval time.Duration, onStatus func(Status)) error {
	if err := m.l.HandleShares(ctx, APIStatus, func(s link.Share) {
		if s.From != telemeter {
			m.log(fmt.Sprintf("monitor: ignored a status object from %s", short(s.From)))
			return
		}
		o, err := link.Get(ctx, m.l, link.JSON[Status](), s.ID)
		if err != nil {
			m.log("monitor: " + err.Error())
			return
		}
		m.log("monitor: the telemeter shared its status object")
		o.Watch(ctx, link.Callbacks[Status]{Update: func(o *link.Object[Status]) { onStatus(o.State()) }})
	}); err != nil {
		return err
	}
	settings, err := link.New(ctx, m.l, link.JSON[Settings](), APISettings, Settings{IntervalMS: int(interval / time.Millisecond)})
	if err != nil {
		return err
	}
	if err := settings.Share(ctx, telemeter); err != nil {
		return err
	}
	m.settings = settings
	return SharePairing(ctx, m.l, telemeter, settings.ID())
}

// SharePairing shares a pairing object naming the settings object with
// the telemeter's identity.
func SharePairing(ctx context.Context, l *link.Link, telemeter, settings record.Address) error {
	p, err := link.New(ctx, l, link.JSON[Pair](), APIPair, Pair{Settings: settings.String()}, link.Static())
	if err != nil {
		return err
	}
	return p.Share(ctx, telemeter)
}

// SetInterval changes the telemeter's interval through the settings
// object.
func (m *Monitor) SetInterval(ctx context.Context, d time.Duration) error {
	if m.settings == nil {
		return fmt.Errorf("not paired")
	}
	return m.settings.Push(ctx, Settings{IntervalMS: int(d / time.Millisecond)})
}

// short abbreviates a fingerprint for people.
func short(a record.Address) string {
	s := a.String()
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
