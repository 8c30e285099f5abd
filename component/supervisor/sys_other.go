//go:build unix && !linux

package supervisor

import (
	"net"
	"os"
	"os/exec"
	"syscall"
)

// sysProcAttr puts a child in a process group of its own. Outside Linux
// there is no parent-death signal: a child learns that the supervisor
// died from its secret pipe's end.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func termGroup(cmd *exec.Cmd) { signalGroup(cmd, syscall.SIGTERM) }

func killGroup(cmd *exec.Cmd) { signalGroup(cmd, syscall.SIGKILL) }

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, sig)
	cmd.Process.Signal(sig)
}

// peerUID cannot ask the kernel here: the run directory's mode (0700)
// keeps other users out instead.
func peerUID(net.Conn) (int, error) { return os.Getuid(), nil }
