//go:build !linux

package ddblocal

import "os/exec"

// setProcAttrs is a no-op off Linux: there is no parent-death signal, so an
// abruptly killed test binary may leave java running.
func setProcAttrs(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) error { return cmd.Process.Kill() }
