package ddblocal

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts java in its own process group (so Stop can kill anything
// it spawns) and asks the kernel to SIGKILL it if we die first: a test binary
// killed by go test's -timeout must not leave a JVM holding a port.
//
// Pdeathsig fires when the forking OS thread exits, not the process. The Go
// runtime does not retire threads unless a goroutine exits while locked to
// one, which nothing here does.
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(cmd *exec.Cmd, kill bool) error {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if err == syscall.ESRCH {
		return nil // group already gone
	}
	return err
}
