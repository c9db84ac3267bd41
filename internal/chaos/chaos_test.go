package chaos_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/chaos"
)

// The short version of `make chaos` that `make test` keeps: one run of the faults that need servers of
// their own (ClickHouse killed, Redis wiped, the broker restarted), of three processors with one joining
// and one leaving, and of ingest SIGKILLed under an HTTP stream, on two private stacks, then of
// appeals.enriched grown under running processors (--dedup-state partition); the processor kills run in processor/app. The full suite repeats every fault CHAOS_RUNS times beside a CPU-heavy
// neighbour.
func TestFaultsShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own ClickHouse and Redis")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "teplokarta")
	build := exec.Command("go", "build", "-o", bin, "./cmd/teplokarta")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	stack := chaos.Stack{Script: filepath.Join(root, "deploy/local/stack.sh"), StateDir: t.TempDir(),
		CHPort: 19400, CHHTTP: 18423, RedisPort: 16679}
	t.Cleanup(func() { _ = stack.Stop(context.Background()) })
	servers := chaos.Stack{Script: stack.Script, StateDir: t.TempDir(), CHPort: 19410, CHHTTP: 18433, RedisPort: 16689}
	t.Cleanup(func() { _ = servers.Stop(context.Background()) })
	// A second lane for the faults that keep the servers up: under load a run may take minutes, and one
	// lane of three would stack them against the package's timeout.
	lane := chaos.Stack{Script: stack.Script, StateDir: t.TempDir(), CHPort: 19420, CHHTTP: 18443, RedisPort: 16699}
	t.Cleanup(func() { _ = lane.Stop(context.Background()) })
	var log strings.Builder
	results, err := chaos.Run(context.Background(), chaos.Config{Bin: bin, Stack: stack, ServerStack: servers, ExtraStacks: []chaos.Stack{lane}, Runs: 1, Messages: 3000,
		CHPause: 3 * time.Second, Seed: 101, Faults: []string{"clickhouse-stop", "redis-wipe", "broker-restart", "scale-three", "ingest-sigkill"},
		RunTimeout: 4 * time.Minute, Log: &log})
	var table strings.Builder
	chaos.PrintTable(&table, results)
	t.Logf("\n%s", table.String())
	if err != nil || chaos.Failed(results) {
		t.Fatalf("%v\n%s", err, log.String())
	}
	// appeals.enriched grown under two running processors (--dedup-state partition only).
	log.Reset()
	results, err = chaos.Run(context.Background(), chaos.Config{Bin: bin, Stack: stack, Runs: 1, Messages: 3000, Seed: 102,
		Faults: []string{"grow-enriched"}, ProcessFlags: []string{"--dedup-state", "partition"}, RunTimeout: 4 * time.Minute, Log: &log})
	table.Reset()
	chaos.PrintTable(&table, results)
	t.Logf("\n%s", table.String())
	if err != nil || chaos.Failed(results) {
		t.Fatalf("%v\n%s", err, log.String())
	}
}
