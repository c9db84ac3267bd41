package testenv

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func TestListenerPIDFindsThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, err := ListenerPID(ln.Addr().String())
	if err != nil || pid != os.Getpid() {
		t.Fatalf("ListenerPID = %d, %v; want this process %d", pid, err, os.Getpid())
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := ListenerPID(addr); !errors.Is(err, ErrNotLocal) {
		t.Fatalf("closed listener: %v, want ErrNotLocal", err)
	}
	if _, err := ListenerPID("no-port"); err == nil {
		t.Fatal("address without a port: no error")
	}
}

func TestProcessCPUGrowsWithWork(t *testing.T) {
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for i := range 100000 {
			x ^= i * i
		}
	}
	after, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Busy for 300 ms of wall time: at least some of it is on a CPU even on a loaded machine.
	if d := after - before; d < 20*time.Millisecond || d > time.Minute {
		t.Fatalf("CPU used while spinning: %v (x=%d)", d, x)
	}
	if _, err := ProcessCPU(1 << 30); err == nil {
		t.Fatal("no such process: no error")
	}
}

func TestServerCPUMeasuresTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	used, ok := ServerCPU(t, ln.Addr().String())
	if !ok {
		t.Fatal("this process's listener is not found")
	}
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for i := range 100000 {
			x ^= i * i
		}
	}
	if d := used(); d < 20*time.Millisecond || d > time.Minute {
		t.Fatalf("CPU used while spinning: %v (x=%d)", d, x)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, ok := ServerCPU(t, addr); ok {
		t.Fatal("a closed listener is measured")
	}
}
