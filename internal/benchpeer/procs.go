package benchpeer

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/teplokarta/teplokarta/internal/chaos"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// child is a process of the teplokarta binary this run started (broker, processor).
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *chaos.TailBuffer
}

func startChild(bin string, args ...string) (*child, error) {
	cmd := exec.Command(bin, args...)
	out := &chaos.TailBuffer{Max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("benchpeer: start %s %s: %w", bin, args[0], err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(c.done) }() // reap: a finished child must not linger as a zombie
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop asks the child to finish (SIGTERM) and kills it if it has not after grace.
func (c *child) stop(grace time.Duration) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// procSet is the processes whose CPU and memory a phase is charged with, by role.
type procSet map[string]int // role → pid

// Roles in the table's order.
const (
	roleProcessor  = "processor"
	roleBroker     = "broker"
	roleClickHouse = "clickhouse"
	roleRedis      = "redis"
)

var roles = []string{roleProcessor, roleBroker, roleClickHouse, roleRedis}

// usage is a snapshot of each process's CPU time so far.
type usage map[string]time.Duration

func (p procSet) cpu() (usage, error) {
	u := usage{}
	for role, pid := range p {
		d, err := testenv.ProcessCPU(pid)
		if err != nil {
			return nil, fmt.Errorf("benchpeer: cpu of %s (pid %d): %w", role, pid, err)
		}
		u[role] = d
	}
	return u, nil
}

func (u usage) since(start usage) usage {
	out := usage{}
	for role, d := range u {
		out[role] = d - start[role]
	}
	return out
}

// resetPeaks starts a new peak-RSS window for the long-lived servers ("5" to clear_refs resets VmHWM);
// where the kernel refuses, their peak is the one since they started, which the table then overstates.
func (p procSet) resetPeaks() {
	for _, pid := range p {
		_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	}
}

// peaks reads each process's VmHWM in KiB.
func (p procSet) peaks() map[string]int64 {
	out := map[string]int64{}
	for role, pid := range p {
		out[role] = vmHWM(pid)
	}
	return out
}

func vmHWM(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kib, _ := strconv.ParseInt(f[0], 10, 64)
				return kib
			}
		}
	}
	return 0
}
