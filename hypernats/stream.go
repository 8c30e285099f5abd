package hypernats

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// flows receives the credit and cancel messages of the server's streams:
// one subscription on "<inbox>.*", each stream at "<inbox>.<id>".
type flows struct {
	prefix string
	max    int64 // the most credit a stream holds
	sub    *nats.Subscription
	next   atomic.Uint64

	mu   sync.Mutex // guards open
	open map[string]*flow
}

// flow is one stream's side of the flow control.
type flow struct {
	subject  string
	credit   atomic.Int64 // items granted and not yet sent
	canceled atomic.Bool
	wake     chan struct{} // a credit or cancel message came
}

func newFlows(nc *nats.Conn, maxWindow int) (*flows, error) {
	f := &flows{prefix: nc.NewInbox(), max: int64(maxWindow), open: map[string]*flow{}}
	sub, err := nc.Subscribe(f.prefix+".*", f.receive)
	if err != nil {
		return nil, fmt.Errorf("hypernats: subscribing to stream credit: %w", err)
	}
	f.sub = sub
	return f, nil
}

func (f *flows) close() {
	if f.sub != nil {
		f.sub.Unsubscribe()
	}
}

// receive handles one flow message: credit adds to the stream's, cancel
// stops it. Messages for streams that ended are dropped.
func (f *flows) receive(m *nats.Msg) {
	id := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	f.mu.Lock()
	fl := f.open[id]
	f.mu.Unlock()
	if fl == nil {
		return
	}
	if m.Header.Get(headerStream) == "cancel" {
		fl.canceled.Store(true)
	} else if n, err := strconv.ParseInt(m.Header.Get(headerCredit), 10, 32); err == nil && n > 0 {
		for {
			old := fl.credit.Load()
			if fl.credit.CompareAndSwap(old, min(old+n, f.max)) {
				break
			}
		}
	}
	select {
	case fl.wake <- struct{}{}:
	default:
	}
}

// start opens a flow with window items of credit.
func (f *flows) start(window int) (*flow, func()) {
	id := strconv.FormatUint(f.next.Add(1), 36)
	fl := &flow{subject: f.prefix + "." + id, wake: make(chan struct{}, 1)}
	fl.credit.Store(int64(window))
	f.mu.Lock()
	f.open[id] = fl
	f.mu.Unlock()
	return fl, func() {
		f.mu.Lock()
		delete(f.open, id)
		f.mu.Unlock()
	}
}

// errStreamCanceled stops a stream whose caller sent cancel.
var errStreamCanceled = &service.Error{Kind: service.KindCanceled, Message: "the caller canceled the stream"}

// await waits until the flow has credit, the caller cancels, ctx ends, or
// idle passes without credit.
func (fl *flow) await(ctx context.Context, idle time.Duration) error {
	var timer *time.Timer
	for {
		if fl.canceled.Load() {
			return errStreamCanceled
		}
		if fl.credit.Load() > 0 {
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(idle)
			defer timer.Stop()
		}
		select {
		case <-fl.wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return &service.Error{Kind: service.KindDeadlineExceeded, Message: fmt.Sprintf("the caller granted no credit for %s: the stream stops", idle)}
		}
	}
}

// sendStream sends a result as a stream (spec.md, "Streamed results"):
// one message per item, each sent only while the caller has granted
// credit, then an end message; an error after the stream started ends it
// with an error message, and an error before it is returned for the
// caller to send as an ordinary error reply. A value that is not a
// stream is a stream of one item.
func (s *Server) sendStream(ctx context.Context, ep *served, reply string, codec Codec, window int, v any, sizes *intercept.Sizes) error {
	if reply == "" {
		return nil
	}
	op := ep.Name
	fl, done := s.flows.start(window)
	defer done()
	seq := 0
	send := func(item any) error {
		if err := fl.await(ctx, s.cfg.idle); err != nil {
			return err
		}
		body, err := encodeValue(op, codec, item, s.nc.MaxPayload())
		if err != nil {
			return err
		}
		seq++
		h := nats.Header{headerStream: []string{"item"}, headerSeq: []string{strconv.Itoa(seq)}}
		if seq == 1 {
			h[headerFlow] = []string{fl.subject}
		}
		fl.credit.Add(-1)
		if err := s.nc.PublishMsg(&nats.Msg{Subject: reply, Header: h, Data: body}); err != nil {
			return err
		}
		sizes.AddOut(int64(len(body)))
		return nil
	}
	var err error
	if st, ok := v.(service.Stream); ok {
		for item, ierr := range st {
			if err = ierr; err != nil {
				break
			}
			if err = send(item); err != nil {
				break
			}
		}
	} else {
		err = send(v)
	}
	if err != nil && seq == 0 {
		return err // an ordinary error reply
	}
	end := nats.Header{headerStream: []string{"end"}, headerSeq: []string{strconv.Itoa(seq + 1)}}
	last := &nats.Msg{Subject: reply, Header: end}
	if err != nil {
		e := logFailure(ctx, s.log(), ep.subject, err)
		ep.stat.failed(e)
		if e.Kind == service.KindCanceled {
			return nil // the caller went away
		}
		last = errorMsg(reply, codec, e, end)
	}
	if err := s.nc.PublishMsg(last); err == nil {
		sizes.AddOut(int64(len(last.Data)))
	} else {
		s.log().Warn("hypernats: cannot end a stream", slog.String("subject", ep.subject), slog.String("error", err.Error()))
	}
	return nil
}
