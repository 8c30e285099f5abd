package supervisor

import "time"

// State is where a process is in its life, as supervisord names it.
type State string

// The states of a process.
const (
	// StateStarting: started, not yet ready, or ready for less than the
	// restart policy's stable period.
	StateStarting State = "STARTING"
	// StateRunning: ready and up for the stable period; its backoff is
	// reset.
	StateRunning State = "RUNNING"
	// StateBackoff: it exited and waits to be started again.
	StateBackoff State = "BACKOFF"
	// StateStopping: asked to stop (SIGTERM), not yet gone.
	StateStopping State = "STOPPING"
	// StateExited: it exited and its policy does not restart it, or it was
	// stopped.
	StateExited State = "EXITED"
	// StateFatal: it exited more often than the start limit allows
	// within the window; it stays down until restarted by hand.
	StateFatal State = "FATAL"
)

// Status is one process as the supervisor sees it.
type Status struct {
	Name       string   // "Storage/1": the process and its replica
	Components []string // what it serves
	State      State
	Pid        int // 0 when it is not running
	Ready      bool
	Restarts   int           // starts after the first
	Uptime     time.Duration // since it last started, while it runs
	Addresses  []string      // the URLs its components are served at
	ExitStatus int           // of its last exit; -1 when killed by a signal
	// LastLog holds its last lines of output when it is FATAL or EXITED.
	LastLog []string
	// Message says why it is in its state: "exit status 3", "not
	// answering its health check", ...
	Message string
}
