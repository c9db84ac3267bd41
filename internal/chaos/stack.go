package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stack is the suite's private ClickHouse and Redis, run by deploy/local/stack.sh in their own state
// directory and ports, so that stopping or wiping them touches nothing else.
type Stack struct {
	Script    string // deploy/local/stack.sh
	StateDir  string
	CHPort    int
	CHHTTP    int
	RedisPort int
}

// Validate checks the stack's settings.
func (s Stack) Validate() error {
	if s.Script == "" || s.StateDir == "" || s.CHPort == 0 || s.CHHTTP == 0 || s.RedisPort == 0 {
		return errors.New("chaos: stack script, state dir and the three ports are required")
	}
	return nil
}

// ClickHouse is the native address.
func (s Stack) ClickHouse() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.CHPort)) }

// Redis is the Redis address.
func (s Stack) Redis() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.RedisPort)) }

func (s Stack) script(ctx context.Context, arg string) error {
	cmd := exec.CommandContext(ctx, s.Script, arg)
	cmd.Env = append(os.Environ(), "TEPLOKARTA_STATE_DIR="+s.StateDir, "TEPLOKARTA_CH_PORT="+strconv.Itoa(s.CHPort),
		"TEPLOKARTA_CH_HTTP_PORT="+strconv.Itoa(s.CHHTTP), "TEPLOKARTA_REDIS_PORT="+strconv.Itoa(s.RedisPort))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("chaos: stack.sh %s: %w\n%s", arg, err, out)
	}
	return nil
}

// Start starts whatever of the stack is not running (idempotent).
func (s Stack) Start(ctx context.Context) error { return s.script(ctx, "start") }

// Stop stops both servers.
func (s Stack) Stop(ctx context.Context) error { return s.script(ctx, "stop") }

// KillClickHouse kills the ClickHouse server with SIGKILL (a power cut for it) and waits until it is gone.
func (s Stack) KillClickHouse(ctx context.Context) error {
	return s.kill(ctx, filepath.Join(s.StateDir, "clickhouse", "server.pid"))
}

// RestartRedisEmpty restarts Redis without its data, as a Redis that lost its disk comes back.
func (s Stack) RestartRedisEmpty(ctx context.Context) error {
	if err := exec.CommandContext(ctx, "redis-cli", "-p", strconv.Itoa(s.RedisPort), "FLUSHALL").Run(); err != nil {
		return fmt.Errorf("chaos: redis FLUSHALL: %w", err)
	}
	if err := s.kill(ctx, filepath.Join(s.StateDir, "redis", "redis.pid")); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(s.StateDir, "redis", "dump.rdb"))
	return s.Start(ctx)
}

func (s Stack) kill(ctx context.Context, pidfile string) error {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("chaos: pid in %s: %w", pidfile, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for alive(pid) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// alive treats a zombie as dead: the stack's servers are daemons this process does not reap.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "State:") {
			return !strings.Contains(line, "Z")
		}
	}
	return true
}
