//go:build unix

package modelstest

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time the process has used, user and system,
// for the benchmarks that report CPU per request next to latency (the
// machines they run on are shared, so wall-clock figures alone mislead).
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
