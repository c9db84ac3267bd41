package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis high availability for tests: a Sentinel set started with deploy/local/sentinel.sh and a one-node
// Redis Cluster. Both need Debian's redis-server; without it the test is skipped (they are the only
// tests that skip: every other Redis test gets its server from `make test`).

func needRedisServer(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install redis-server redis-tools): skipping the Redis HA test", bin)
		}
	}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SentinelSet is a running deploy/local/sentinel.sh set: a master, a replica and three Sentinels.
type SentinelSet struct {
	Master    string   // master name
	Sentinels []string // Sentinel addresses
	script    string
	dir       string // state directory
	env       []string
}

// Env variables of deploy/local/sentinel.sh a test passes on (ports, master name, timeouts).
const envSentinelPrefix = "TEPLOKARTA_SENTINEL_"

// StartSentinelSet starts a Sentinel set in a temporary state directory (ports: the script's defaults or
// TEPLOKARTA_SENTINEL_* from the environment) and stops it after the test.
func StartSentinelSet(t testing.TB) *SentinelSet {
	t.Helper()
	needRedisServer(t)
	s := &SentinelSet{Master: "teplokarta", script: filepath.Join(repoRoot(), "deploy", "local", "sentinel.sh"), dir: t.TempDir()}
	s.env = append(os.Environ(), envSentinelPrefix+"STATE_DIR="+s.dir)
	if m := os.Getenv(envSentinelPrefix + "MASTER"); m != "" {
		s.Master = m
	}
	ports := strings.Fields(os.Getenv(envSentinelPrefix + "PORTS"))
	if len(ports) == 0 {
		ports = []string{"26801", "26802", "26803"}
	}
	for _, p := range ports {
		s.Sentinels = append(s.Sentinels, "127.0.0.1:"+p)
	}
	t.Cleanup(func() { _, _ = s.run("stop") })
	s.Run(t, "start")
	return s
}

func (s *SentinelSet) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.script, args...)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Run runs a command of the script (start, kill-master, status), failing the test if it fails.
func (s *SentinelSet) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.run(args...)
	if err != nil {
		t.Fatalf("sentinel.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Exec runs a command of the script and returns its output, for goroutines other than the test's
// ("start" brings a killed node back as a replica).
func (s *SentinelSet) Exec(args ...string) (string, error) { return s.run(args...) }

// NodePID is the process id of the data node at addr (host:port), from the script's pid file.
func (s *SentinelSet) NodePID(t testing.TB, addr string) int {
	t.Helper()
	_, port, _ := strings.Cut(addr, ":")
	b, err := os.ReadFile(filepath.Join(s.dir, "redis-"+port, "redis.pid"))
	if err != nil {
		t.Fatalf("pid of %s: %v", addr, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid of %s: %v", addr, err)
	}
	return pid
}

// ReplicaAddr is the address of a replica of the current master, as the Sentinels list them.
func (s *SentinelSet) ReplicaAddr(ctx context.Context) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0], DialTimeout: time.Second})
	defer c.Close()
	reps, err := c.Replicas(ctx, s.Master).Result()
	if err != nil {
		return "", err
	}
	for _, r := range reps {
		if r["ip"] != "" && r["port"] != "" && !strings.Contains(r["flags"], "down") {
			return r["ip"] + ":" + r["port"], nil
		}
	}
	return "", fmt.Errorf("master %s has no live replica", s.Master)
}

// MasterAddr asks the Sentinels which node is the master now.
func (s *SentinelSet) MasterAddr(ctx context.Context) (string, error) {
	var last error
	for _, a := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: a, DialTimeout: time.Second})
		addr, err := c.GetMasterAddrByName(ctx, s.Master).Result()
		c.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no Sentinel names master %s: %v", s.Master, last)
}

// RedisClusterNode starts a one-node Redis Cluster holding all 16384 slots on port (the test's own,
// TEPLOKARTA_TEST_CLUSTER_PORT or 16811; the cluster bus takes port+10000) and stops it after the test.
// A cluster node rejects a command or script whose keys hash to different slots (CROSSSLOT), as a real
// cluster does, so it shows which keys lack a shared hash tag.
func RedisClusterNode(t testing.TB) string {
	t.Helper()
	needRedisServer(t)
	port := 16811
	if v := os.Getenv("TEPLOKARTA_TEST_CLUSTER_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("TEPLOKARTA_TEST_CLUSTER_PORT=%q: %v", v, err)
		}
		port = p
	}
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis cluster node: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis cluster node on %s did not start (port taken?)\n%s", addr, log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := c.Do(ctx, "cluster", "addslotsrange", 0, 16383).Err(); err != nil {
		t.Fatalf("cluster addslotsrange: %v", err)
	}
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return addr
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cluster node on %s: state not ok: %v %s", addr, err, info)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
