// Package supervisor runs a deployment (package component/deploy): the
// processes of its components, started, kept running and stopped as one
// application. `glyph run deploy.yaml` is a [Supervisor]'s
// [Supervisor.Run].
//
// # Starting
//
// The supervisor creates every listening socket itself (a Unix socket in
// its private run directory by default, or a TCP port) and keeps it for
// the replica's life, so that an address never changes across restarts
// and callers that connect while a replica restarts wait in the socket's
// backlog. It starts each process once every process it uses is ready,
// with everything it needs in its environment and inherited descriptors,
// never in its arguments: the components to serve (GLYPH_SERVE), the
// routing table (GLYPH_ROUTES), its sockets (LISTEN_FDS and
// LISTEN_FDNAMES, as systemd passes them), the read end of a pipe that
// carries the deployment's secret (GLYPH_SECRET_FD; package
// component/secret) and the write end of one on which it reports
// "READY" (GLYPH_READY_FD). spec.md writes this down; package
// component's [component.Start] is the other side.
//
// # Supervising
//
// A process is STARTING until it has been ready for its restart policy's
// stable period, then RUNNING. One that exits is, by its policy, EXITED,
// or in BACKOFF until it starts again: after the policy's backoff, doubled
// for each failure since it last was RUNNING up to a maximum, less up to
// half at random. One that starts more often than the start limit within
// the window is FATAL, with its last lines of output in its [Status], and
// its sockets closed so that callers go elsewhere at once; it stays down
// until restarted by hand. A process that is up but does not answer its
// health checks (the description of its component, asked for with a
// proof of the secret) is killed and restarted.
//
// Every child runs in a process group of its own and, on Linux, with a
// parent-death signal; it also exits when its secret pipe ends. So a
// supervisor killed with SIGKILL leaves no child behind. An ordered
// shutdown (SIGINT or SIGTERM to glyph run, [Supervisor.Shutdown]) stops
// dependants first: SIGTERM to the group, SIGKILL after the stop timeout.
//
// # Output and control
//
// Every child's stdout and stderr are multiplexed onto one output, each
// line prefixed with its process ("Storage/1 | ..."), in a colour per
// process on a terminal; a line that is a JSON object (slog's JSON
// handler) is kept one, with the process as its first field, when the
// output is not a terminal. The last lines of each process are kept for
// `glyph logs`.
//
// The control API ([Supervisor.ControlService]: status, restart, logs,
// reload, rotate) is a glyph service served over peers on the Unix
// socket control.sock in the run directory, a directory only its owner
// may enter, to connections of the same user only (SO_PEERCRED). `glyph
// status`, `glyph logs` and `glyph restart` call it; a changed deployment
// file is applied ([Supervisor.Reload]) on SIGHUP or by `glyph run
// --reload`, restarting only the processes whose settings, sockets or
// routing table changed.
package supervisor
