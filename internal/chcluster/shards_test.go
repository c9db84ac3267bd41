package chcluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

// The sharded layouts of cluster.sh: two shards of one server, two shards of two replicas.
const (
	envShards         = "TEPLOKARTA_TEST_CH_SHARDS"
	envShardsReplicas = "TEPLOKARTA_TEST_CH_SHARDS_REPLICAS"
)

// rollups are the tables the views fill from appeals, each shard from its own rows.
var rollups = []string{"appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"}

// TestClusterShards runs the pipeline on two shards (cluster.sh with TEPLOKARTA_CLUSTER_SHARDS=2), of one
// server or of two replicas each: the processor and the SLA engine run while the last server (shard 2's
// only one, or its second replica) is SIGKILLed and restarted; every appeal is stored once, on the shard
// its Kafka partition maps to, and each shard's rollups count its own appeals on every replica. Then
// rollups broken on both shards are repaired by the real `teplokarta verify --repair`, shard by shard.
func TestClusterShards(t *testing.T) {
	for _, l := range []struct {
		name, env string
		replicas  int
	}{
		{"one server each", envShards, 1},
		{"two replicas each", envShardsReplicas, 2},
	} {
		t.Run(l.name, func(t *testing.T) { testShards(t, l.env, l.replicas) })
	}
}

func testShards(t *testing.T, env string, replicas int) {
	layout := []string{"TEPLOKARTA_CLUSTER_SHARDS=2", "TEPLOKARTA_CLUSTER_REPLICAS=" + strconv.Itoa(replicas)}
	cr := newClusterRun(t, env, 2*replicas, strings.Join(layout, " ")+" deploy/local/cluster.sh start", "ts")
	addrs, servers, bin, tmp, db := cr.addrs, cr.servers, cr.bin, cr.tmp, cr.db
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conns := make([]driver.Conn, len(servers)) // server n is replica n%replicas of shard n/replicas
	for i, s := range servers {
		conns[i] = open(t, s, db)
	}
	shards := []driver.Conn{conns[0], conns[replicas]} // one replica of each shard
	topo, err := chstore.Discover(ctx, shards[0])
	if err != nil {
		t.Fatal(err)
	}
	if topo.Shards != 2 || len(topo.ShardReplicas) != 2 || len(topo.ShardReplicas[0]) != replicas {
		t.Fatalf("topology %+v, want two shards of %d replica(s) each", topo, replicas)
	}

	broker, redisAddr, truth := stream(t, ctx, bin, tmp)
	// The SLA engine too: it writes appeal_sla (sharded by appeal, not by Kafka partition) and reconciles
	// at start with a query across appeals and appeal_sla.
	cr.sla(t, broker, redisAddr)
	proc := cr.process(t, broker, redisAddr)
	until(t, ctx, "a quarter of the stream stored", func() (bool, string) {
		n, err := count(ctx, shards[0], "SELECT count() FROM appeals")
		return err == nil && n >= uint64(truth.Appeals/4), fmt.Sprint(n, err)
	})
	// With one server per shard, shard 2's INSERTs fail while it is down and the processor waits for it;
	// with two replicas, the other one takes them.
	sharded := func(arg string) {
		cmd := exec.Command(script, arg)
		if arg == "kill" {
			cmd.Args = append(cmd.Args, strconv.Itoa(len(servers)))
		}
		cmd.Env = append(os.Environ(), layout...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	sharded("kill")
	time.Sleep(3 * time.Second)
	sharded("start")

	until(t, ctx, "appeals to hold the truth", func() (bool, string) {
		n, err := count(ctx, shards[0], "SELECT count() FROM appeals")
		if err == nil && n > uint64(truth.Appeals) {
			t.Fatalf("appeals = %d, more than the %d appeals sent", n, truth.Appeals)
		}
		return err == nil && n == uint64(truth.Appeals), fmt.Sprint(n, err)
	})
	if dup, err := count(ctx, shards[0], "SELECT toUInt64(count() - uniqExact(appeal_id)) FROM appeals"); err != nil || dup != 0 {
		t.Errorf("%d appeals stored twice across the shards (%v)", dup, err)
	}
	// A Kafka partition's rows live on one shard: the sharding key.
	owner := map[string]int{}
	for i, c := range shards {
		rows, err := c.Query(ctx, "SELECT DISTINCT concat(kafka_topic, '/', toString(kafka_partition)) FROM appeals_local")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			if j, ok := owner[p]; ok {
				t.Errorf("Kafka partition %s has rows on shards %d and %d", p, j+1, i+1)
			}
			owner[p] = i
		}
		rows.Close()
	}
	checker := rollup.NewChecker(shards[0], nil, nil).WithDialer(chstoreConfig(db).Dial).WithAuth(testenv.ClusterAuth())
	until(t, ctx, "the rollups to agree with appeals", func() (bool, string) {
		rep, err := checker.Check(ctx, rollup.Scope{}, false)
		return err == nil && rep.Clean(), fmt.Sprint(rep.Diffs, rep.Progress, err)
	})
	perShard := checkReplicas(t, ctx, conns, replicas, truth.Appeals)
	t.Logf("stream of %d appeals: %d on shard 1, %d on shard 2", truth.Appeals, perShard[0], perShard[1])
	cr.slaComplete(t, ctx, shards[0])
	if out, err := command(bin, "sla", "report", "--clickhouse-addr", addrs, "--clickhouse-database", db, "--since", "720h").CombinedOutput(); err != nil {
		t.Errorf("teplokarta sla report on two shards: %v\n%s", err, out)
	}
	var theme string
	if err := shards[0].QueryRow(ctx, "SELECT theme FROM appeals WHERE is_incident = 1 GROUP BY theme ORDER BY count() DESC, theme LIMIT 1").Scan(&theme); err != nil {
		t.Fatal(err)
	}
	pluginQueries(t, ctx, servers[0], db, theme)

	// Break a rollup on each shard: a row of shard 2's hours counted twice, a row of shard 1's days too.
	proc.cmd.Process.Kill()
	<-proc.done
	double(t, ctx, shards[1], "appeal_counts_1h_local")
	double(t, ctx, shards[0], "appeal_counts_1d_local")
	rep, err := checker.Check(ctx, rollup.Scope{}, false) // after the replicas have the broken rows too
	if err != nil || len(rep.Diffs) != 2 {
		t.Fatalf("verify after breaking two rollups: %v %v, want two differences", rep.Diffs, err)
	}
	if err := rollup.Repair(ctx, shards[0], rep); !errors.Is(err, rollup.ErrShardedRepair) {
		t.Errorf("repair without a way to reach the shards: %v, want ErrShardedRepair", err)
	}
	verify := command(bin, "verify", "--repair", "--no-gate", "--since", "0", "--clickhouse-addr", addrs, "--clickhouse-database", db)
	out, err := verify.CombinedOutput()
	if err != nil {
		t.Fatalf("teplokarta verify --repair: %v\n%s", err, out)
	}
	t.Logf("teplokarta verify --repair:\n%s", out)
	if again, err := command(bin, "verify", "--no-gate", "--since", "0", "--clickhouse-addr", addrs, "--clickhouse-database", db).CombinedOutput(); err != nil {
		t.Errorf("teplokarta verify after the repair: %v\n%s", err, again)
	}
	checkReplicas(t, ctx, conns, replicas, truth.Appeals)
}

// checkReplicas runs checkShards on each replica of the shards (conns by server, replicas per shard).
func checkReplicas(t *testing.T, ctx context.Context, conns []driver.Conn, replicas, appeals int) []uint64 {
	t.Helper()
	var per []uint64
	for r := 0; r < replicas; r++ {
		got := checkShards(t, ctx, []driver.Conn{conns[r], conns[replicas+r]}, appeals)
		if per != nil && !slices.Equal(per, got) {
			t.Errorf("replica %d holds %v appeals per shard, replica 1 %v", r+1, got, per)
		}
		per = got
	}
	return per
}

// checkShards checks that both shards hold appeals, that together they hold the truth, and that every
// rollup counts the truth through its Distributed table and, on each shard, that shard's own appeals.
// It returns the appeals per shard.
func checkShards(t *testing.T, ctx context.Context, shards []driver.Conn, appeals int) []uint64 {
	t.Helper()
	per := make([]uint64, len(shards))
	var sum uint64
	for i, c := range shards {
		n, err := count(ctx, c, "SELECT count() FROM appeals_local FINAL")
		if err != nil || n == 0 {
			t.Errorf("shard %d holds %d appeals (%v), want a share", i+1, n, err)
		}
		per[i], sum = n, sum+n
		for _, table := range rollups {
			got, err := count(ctx, c, "SELECT sum(voices) FROM "+table+"_local")
			if err != nil || got != n {
				t.Errorf("shard %d: %s_local counts %d appeals (%v), the shard holds %d", i+1, table, got, err, n)
			}
		}
	}
	if sum != uint64(appeals) {
		t.Errorf("the shards hold %d appeals together, truth %d", sum, appeals)
	}
	for _, table := range rollups {
		if got, err := count(ctx, shards[0], "SELECT sum(voices) FROM "+table); err != nil || got != uint64(appeals) {
			t.Errorf("%s counts %d appeals (%v), truth %d", table, got, err, appeals)
		}
	}
	return per
}

// double stores one row of a rollup's local table again on that server, so the rollup counts it twice.
func double(t *testing.T, ctx context.Context, c driver.Conn, table string) {
	t.Helper()
	rows, err := c.Query(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ?", table)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, name)
	}
	rows.Close()
	list := strings.Join(cols, ", ")
	if err := c.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s LIMIT 1", table, list, list, table)); err != nil {
		t.Fatal(err)
	}
}

// pluginQueries runs the datasource's queries that join appeals with appeal_sla (sharded by other keys)
// through the real backend on the cluster: ClickHouse refuses a plain IN or JOIN between two Distributed
// tables, so they must be GLOBAL. Every status but "new" comes from an appeal_sla row, so rows for them
// show the join found them.
func pluginQueries(t *testing.T, ctx context.Context, addr, db, theme string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	a := testenv.ClusterAuth()
	settings, _ := json.Marshal(map[string]any{"host": host, "port": p, "database": db, "username": a.User})
	ds, err := plugin.New(ctx, backend.DataSourceInstanceSettings{JSONData: settings,
		DecryptedSecureJSONData: map[string]string{"password": a.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Dispose()
	now := time.Now()
	tracked := []string{"assigned", "in_work", "resolved", "returned"}
	for _, m := range []plugin.QueryModel{
		{QueryType: plugin.QueryAppeals, Filters: plugin.Filters{Statuses: tracked}, Limit: 20},
		{QueryType: plugin.QueryTop, Dimension: plugin.ByCategory, Filters: plugin.Filters{Statuses: tracked}},
		{QueryType: plugin.QuerySLA, GroupBy: plugin.ByAgency, Filters: plugin.Filters{Themes: []string{theme}}},
	} {
		q, _ := json.Marshal(m)
		resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{
			RefID: "A", QueryType: m.QueryType, JSON: q, TimeRange: backend.TimeRange{From: now.Add(-40 * 24 * time.Hour), To: now.Add(time.Hour)},
		}}})
		if err != nil {
			t.Fatalf("%s: %v", m.QueryType, err)
		}
		r := resp.Responses["A"]
		if r.Error != nil {
			t.Errorf("%s on two shards: %v", m.QueryType, r.Error)
			continue
		}
		rows := 0
		for _, f := range r.Frames {
			rows += f.Rows()
		}
		if rows == 0 {
			t.Errorf("%s on two shards: no rows", m.QueryType)
		}
	}
}
