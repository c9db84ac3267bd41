package deploy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestLocalStackIsIdempotent runs deploy/local/stack.sh on its own ports and state dir: starting twice is
// fine, and stopping leaves no server running.
func TestLocalStackIsIdempotent(t *testing.T) {
	state := t.TempDir()
	ch, redis := freePort(t), freePort(t)
	env := append(os.Environ(), "TEPLOKARTA_STATE_DIR="+state, "TEPLOKARTA_CH_PORT="+ch,
		"TEPLOKARTA_CH_HTTP_PORT="+freePort(t), "TEPLOKARTA_REDIS_PORT="+redis)
	run := func(arg string) string {
		cmd := exec.Command(filepath.Join("local", "stack.sh"), arg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("stack.sh %s: %v\n%s", arg, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { run("stop") })
	run("start")
	if out := run("start"); !strings.Contains(out, "already running") {
		t.Fatalf("second start should find the servers running:\n%s", out)
	}
	if out := run("status"); !strings.Contains(out, "clickhouse: running on 127.0.0.1:"+ch) || !strings.Contains(out, "redis: running on 127.0.0.1:"+redis) {
		t.Fatalf("status:\n%s", out)
	}
	run("stop")
	for _, port := range []string{ch, redis} {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			t.Errorf("something still listens on %s after stop", port)
		}
	}
	if out := run("status"); !strings.Contains(out, "clickhouse: stopped") || !strings.Contains(out, "redis: stopped") {
		t.Fatalf("status after stop:\n%s", out)
	}
}
