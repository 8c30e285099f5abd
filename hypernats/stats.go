package hypernats

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/glyph-ipc/glyph/service"
)

// endpointStats counts what an endpoint's calls did, whichever
// subscription received them (micro counts only those of its own, when
// they are queued): these are the counts of the calls themselves, sent
// as the endpoint's stats data.
type endpointStats struct {
	mu        sync.Mutex // guards the fields below
	Calls     int
	Errors    int
	LastError string
	Time      time.Duration
	InFlight  int
}

func (st *endpointStats) started() {
	st.mu.Lock()
	st.InFlight++
	st.mu.Unlock()
}

func (st *endpointStats) served(d time.Duration) {
	st.mu.Lock()
	st.Calls++
	st.InFlight--
	st.Time += d
	st.mu.Unlock()
}

func (st *endpointStats) failed(e *service.Error) {
	st.mu.Lock()
	st.Errors++
	st.LastError = e.Error()
	st.mu.Unlock()
}

// statsData is the stats data of an endpoint, a snapshot of its counts.
type statsData struct {
	Calls       int           `json:"calls"`
	Errors      int           `json:"errors"`
	LastError   string        `json:"last_error,omitempty"`
	Time        time.Duration `json:"processing_time"`
	AverageTime time.Duration `json:"average_processing_time"`
	InFlight    int           `json:"in_flight"`
}

// stats is the micro service's StatsHandler.
func (s *Server) stats(e *micro.Endpoint) any {
	for _, ep := range s.eps {
		if ep.name != e.Name {
			continue
		}
		st := ep.stat
		st.mu.Lock()
		defer st.mu.Unlock()
		d := statsData{Calls: st.Calls, Errors: st.Errors, LastError: st.LastError, Time: st.Time, InFlight: st.InFlight}
		if d.Calls > 0 {
			d.AverageTime = d.Time / time.Duration(d.Calls)
		}
		return d
	}
	return nil
}
