package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ErrNotLocal: no process of this machine that we may inspect listens on the address (a remote server,
// or another user's).
var ErrNotLocal = errors.New("testenv: no local process listens there")

// ListenerPID returns the process listening on a local TCP address ("127.0.0.1:19000"). Benchmarks use
// it to charge the servers' CPU to the work they measure: on a shared machine the servers' time is as
// much a cost of an appeal as the processor's.
func ListenerPID(addr string) (int, error) {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0, fmt.Errorf("testenv: port of %q: %w", addr, err)
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listeningInodes(table, port, inodes); err != nil {
			return 0, err
		}
	}
	if len(inodes) == 0 {
		return 0, ErrNotLocal
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fdDir := range procs {
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // another user's process, or gone
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if inode, ok := strings.CutPrefix(target, "socket:["); err == nil && ok && inodes[strings.TrimSuffix(inode, "]")] {
				return strconv.Atoi(filepath.Base(filepath.Dir(fdDir)))
			}
		}
	}
	return 0, ErrNotLocal
}

// listeningInodes adds the socket inodes of /proc/net/tcp{,6} rows in state LISTEN (0A) on port.
func listeningInodes(table string, port int, into map[string]bool) error {
	f, err := os.Open(table)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Fields(sc.Text())
		if len(cols) < 10 || cols[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(cols[1], ":")
		if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port {
			into[cols[9]] = true
		}
	}
	return sc.Err()
}

// ProcessCPU returns the user + system CPU time a process has used so far, all its threads included.
func ProcessCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0, fmt.Errorf("testenv: malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("testenv: short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14 and 15 of the whole line
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("testenv: /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// CPUSince starts measuring a process's CPU time; the returned function gives what it used since.
func CPUSince(t testing.TB, pid int) func() time.Duration {
	t.Helper()
	start, err := ProcessCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Duration {
		now, err := ProcessCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		return now - start
	}
}

// ServerCPU is CPUSince for the process listening on addr; ok is false when none of this machine's does
// (a remote server: its CPU is not this machine's cost).
func ServerCPU(t testing.TB, addr string) (used func() time.Duration, ok bool) {
	t.Helper()
	pid, err := ListenerPID(addr)
	if errors.Is(err, ErrNotLocal) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return CPUSince(t, pid), true
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100
