// Package deploy reads deployment files: which binary serves each
// component, how many replicas, how callers reach it (unix sockets by
// default, tcp, http, nats), which components share a process, what each
// uses, and the restart policy, health check and environment of each
// process. The supervisor (package component/supervisor, `glyph run`)
// runs what a file describes.
//
// The format is YAML, written down with checked examples in spec.md.
// [Parse] validates the whole file and reports every problem with its
// file and line ("deploy.yaml:12: Storage.replicas: want a positive
// integer, got -1"); [Deployment.Processes] gives the processes in the
// order they start.
package deploy
