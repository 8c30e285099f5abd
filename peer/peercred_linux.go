package peer

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred reads the credentials of the process at the other end of uc
// (SO_PEERCRED), nil when the kernel does not tell them.
func peerCred(uc *net.UnixConn) *PeerCred {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *PeerCred
	rc.Control(func(fd uintptr) {
		u, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err == nil {
			cred = &PeerCred{UID: u.Uid, GID: u.Gid, PID: u.Pid}
		}
	})
	return cred
}
