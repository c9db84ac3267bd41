package chaos

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A child that ignores SIGTERM is reported with its log saved to a file, not just "still running".
func TestStopReportsAStuckChild(t *testing.T) {
	// exec: sleep keeps the ignored SIGTERM, and no grandchild holds stderr open after the kill.
	cmd := exec.Command("sh", "-c", `trap "" TERM; echo "shutting down, flushing" >&2; exec sleep 60`)
	out := &TailBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(c.done) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "flushing"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the child did not start")
		}
	}
	err := c.stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "still running") || !strings.Contains(err.Error(), "shutting down, flushing") {
		t.Fatalf("stop = %v; want \"still running\" with the child's log", err)
	}
	file := regexp.MustCompile(`in (\S+teplokarta-chaos-stuck-\S+\.txt)`).FindStringSubmatch(err.Error())
	if file == nil {
		t.Fatalf("no file named in %v", err)
	}
	defer os.Remove(file[1])
	b, rerr := os.ReadFile(file[1])
	if rerr != nil || !strings.Contains(string(b), "shutting down, flushing") {
		t.Errorf("%s holds %q (%v)", file[1], b, rerr)
	}
	select {
	case <-c.done:
	default:
		t.Error("the child is still running")
	}
}
