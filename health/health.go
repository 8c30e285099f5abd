// Package health reports whether a program and the services in it can
// answer, in the shape of gRPC's health checking protocol
// (grpc.health.v1): a status per service name, the empty name standing for
// the whole program, read once with check or followed with watch. A
// [Server] holds the statuses; [Server.Register] offers check and watch on
// a [service.Service], so they are reached over HTTP (package hyperhttp)
// and over peers (package hyperpeer) like any other function; and a Server
// is an [http.Handler] answering the liveness and readiness probes of load
// balancers and Kubernetes (/livez and /readyz).
//
//	h := health.NewServer()
//	h.Register(svc)
//	mux.Handle("/livez", h)
//	mux.Handle("/readyz", h)
//	h.SetServingStatus("search", health.NotServing) // while the index loads
//
// Command glyph checks a service from a shell: glyph health URL [SERVICE].
package health

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"path"
	"sync"

	"github.com/glyph-ipc/glyph/service"
)

// Status is the health of a service. Its names (String) are the ones of
// gRPC's ServingStatus and are what check and watch answer; they do not
// change.
type Status uint8

// The statuses.
const (
	// Unknown: the service's state is not known (yet).
	Unknown Status = iota
	// Serving: the service answers.
	Serving
	// NotServing: the service does not answer, or should not be sent work.
	NotServing
	// ServiceUnknown: no status was ever set for the name asked about.
	ServiceUnknown
)

var statusNames = [...]string{
	Unknown:        "UNKNOWN",
	Serving:        "SERVING",
	NotServing:     "NOT_SERVING",
	ServiceUnknown: "SERVICE_UNKNOWN",
}

// String returns the status's stable name, such as "NOT_SERVING".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", s)
}

// ParseStatus returns the status named name (as [Status.String] names it).
// Another name is a [service.KindInvalid] error.
func ParseStatus(name string) (Status, error) {
	for s, n := range statusNames {
		if n == name {
			return Status(s), nil
		}
	}
	return Unknown, service.Errorf(service.KindInvalid, "%q is not a health status", name)
}

// Server holds the status of each service of a program, the empty name
// standing for the program as a whole, and tells the watchers of a name
// when its status changes. It is safe for concurrent use. The zero value
// is not usable: call [NewServer].
type Server struct {
	mu       sync.Mutex
	statuses map[string]Status
	watchers map[string]map[*watcher]struct{}
	shutdown bool
}

// A watcher is one Watch in progress. Its channel, of capacity one, says
// that the status may have changed; Watch then reads the latest status.
// So a watcher that is slow to read holds one pending signal, never a
// queue of statuses.
type watcher struct{ changed chan struct{} }

// NewServer returns a Server whose overall status ("") is [Serving] and
// which knows no other service.
func NewServer() *Server {
	return &Server{
		statuses: map[string]Status{"": Serving},
		watchers: make(map[string]map[*watcher]struct{}),
	}
}

// SetServingStatus sets the status of the service called name ("" for the
// program as a whole) and tells its watchers. After [Server.Shutdown] it
// does nothing until [Server.Resume].
func (s *Server) SetServingStatus(name string, status Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return
	}
	s.setLocked(name, status)
}

func (s *Server) setLocked(name string, status Status) {
	if old, ok := s.statuses[name]; ok && old == status {
		return
	}
	s.statuses[name] = status
	s.notifyLocked(name)
}

// notifyLocked tells the watchers of name that its status may have changed.
func (s *Server) notifyLocked(name string) {
	for w := range s.watchers[name] {
		select {
		case w.changed <- struct{}{}:
		default: // a signal is already pending: the watcher will read the latest
		}
	}
}

// Shutdown sets every service, and the program, [NotServing], ends every
// watch ([Server.Watch]) and ignores later calls of
// [Server.SetServingStatus], so that a program that is stopping is taken
// out of its load balancer's rotation (see [Server.ServeHTTP]) while it
// finishes the requests in flight.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = true
	for name := range s.statuses {
		s.setLocked(name, NotServing)
	}
	for name := range s.watchers { // every watch ends, of a name with a status or not
		s.notifyLocked(name)
	}
}

// Resume undoes [Server.Shutdown]: every service, and the program, is
// [Serving] again and [Server.SetServingStatus] takes effect.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = false
	for name := range s.statuses {
		s.setLocked(name, Serving)
	}
}

// Check returns the status of the service called name ("" for the program
// as a whole), or [ServiceUnknown] when none was set for that name.
func (s *Server) Check(name string) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkLocked(name)
}

func (s *Server) checkLocked(name string) Status {
	if st, ok := s.statuses[name]; ok {
		return st
	}
	return ServiceUnknown
}

// Watch yields the status of the service called name (as [Server.Check]
// returns it) and then each new status, until ctx is done or the range
// stops. A watcher that reads slowly may miss statuses set in between
// but always gets the latest one: no queue of statuses builds up for it.
// Once the Server is shut down ([Server.Shutdown]), Watch yields the
// status it then has ([NotServing] for every name with a status), if it
// has not yet, and ends, so that watches in flight do not hold up a
// graceful stop of the transports that carry them.
func (s *Server) Watch(ctx context.Context, name string) iter.Seq[Status] {
	return func(yield func(Status) bool) {
		w := &watcher{changed: make(chan struct{}, 1)}
		s.mu.Lock()
		if s.watchers[name] == nil {
			s.watchers[name] = make(map[*watcher]struct{})
		}
		s.watchers[name][w] = struct{}{}
		last, down := s.checkLocked(name), s.shutdown
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.watchers[name], w)
			if len(s.watchers[name]) == 0 {
				delete(s.watchers, name)
			}
			s.mu.Unlock()
		}()
		if !yield(last) || down {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.changed:
			}
			s.mu.Lock()
			st, down := s.checkLocked(name), s.shutdown
			s.mu.Unlock()
			if st == last && !down {
				continue
			}
			if st != last && !yield(st) || down {
				return
			}
			last = st
		}
	}
}

// Register adds two safe functions to svc, each taking the optional name
// of a service ("" for the program as a whole):
//
//   - check(service) answers its status's name, such as "SERVING", as
//     [Server.Check] returns it.
//   - watch(service) streams the name of its status and then of each new
//     one, as [Server.Watch] yields them, until the caller goes away.
//     Over peers each status is a message as it happens; over HTTP the
//     answer is a list whose items are flushed as they happen. The
//     stream ends once the Server is shut down, as Watch does.
//
// Unlike gRPC's Check, which fails with NOT_FOUND, check answers
// "SERVICE_UNKNOWN" for a name without a status, as gRPC's Watch does:
// a caller always gets a status.
func (s *Server) Register(svc *service.Service) error {
	if err := svc.Func("check", func(name string) string {
		return s.Check(name).String()
	}, service.Args("service"), service.Default("service", ""), service.Safe()); err != nil {
		return err
	}
	return svc.Func("watch", func(ctx context.Context, name string) iter.Seq[string] {
		return func(yield func(string) bool) {
			for st := range s.Watch(ctx, name) {
				if !yield(st.String()) {
					return
				}
			}
		}
	}, service.Args("service"), service.Default("service", ""), service.Safe())
}

// ServeHTTP answers the probes of load balancers and Kubernetes, by the
// last element of the request's path, to GET and HEAD:
//
//   - livez: 200 "ok" while the process serves HTTP at all, shut down or
//     not (a failing liveness probe restarts the process).
//   - readyz: 200 "SERVING" when the program's overall status is
//     [Serving], else 503 Service Unavailable and the status's name (a
//     failing readiness probe takes the process out of rotation). With
//     ?service=NAME, the status of that service instead.
//
// Any other path is 404 Not Found and any other method 405. Bodies are one
// line of plain text and are never cached.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	probe := path.Base(r.URL.Path)
	if probe != "livez" && probe != "readyz" {
		http.Error(w, "no such probe: want livez or readyz", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if probe == "livez" {
		fmt.Fprintln(w, "ok")
		return
	}
	st := s.Check(r.URL.Query().Get("service"))
	if st != Serving {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, st)
}
