package chstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The cluster schema (docs/cluster.md): every table of the single-node schema becomes a Replicated* table
// <name>_local on every host plus a Distributed table under the old name, so readers (the plugin, sla,
// verify) and the processor's INSERTs keep their names; materialized views read and write the local
// tables, so each shard rolls up its own rows. The SQL files stay single-node: RenderCluster rewrites
// their four kinds of statement and refuses anything else.

// ShardingKeys keeps what must stay together on one shard: a Kafka partition's appeals with its progress
// record (a partition resumes after the highest offset its shard holds, and one INSERT of a partition's
// rows is one part on one shard), an appeal's SLA versions with each other (ReplacingMergeTree collapses
// only within a shard). Rollups are only written by views on the local tables; rand() is never used.
var ShardingKeys = map[string]string{
	"appeals":          "cityHash64(kafka_topic, kafka_partition)",
	"appeal_progress":  "cityHash64(kafka_topic, kafka_partition)",
	"appeal_events":    "cityHash64(appeal_id)",
	"appeal_sla":       "cityHash64(appeal_id)",
	"appeal_sla_extra": "cityHash64(appeal_id)",
}

// LocalSuffix names the replicated table behind a Distributed one.
const LocalSuffix = "_local"

var (
	createTableRe = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS (\w+)\s*(\(.*\))\s*ENGINE = (\w*MergeTree)(?:\((.*?)\))?(\s.*)?$`)
	createViewRe  = regexp.MustCompile(`(?s)^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS(.*\bFROM )(\w+)(\b.*)$`)
	alterRe       = regexp.MustCompile(`(?s)^ALTER TABLE (\w+) (.*)$`)
	dropRe        = regexp.MustCompile(`^DROP TABLE IF EXISTS (\w+)$`)
)

// RenderCluster rewrites migrations for cluster (a name in the servers' remote_servers) and database db.
// Every statement is ON CLUSTER and names its database: a distributed DDL runs on each host in the DDL
// worker's own session, not in the migrating client's database.
func RenderCluster(migrations []Migration, cluster, db string) ([]Migration, error) {
	if !identRe.MatchString(cluster) || !identRe.MatchString(db) {
		return nil, fmt.Errorf("migrate: cluster %q and database %q must be identifiers", cluster, db)
	}
	out := make([]Migration, 0, len(migrations))
	for _, m := range migrations {
		r := Migration{ID: m.ID}
		for i, s := range m.Statements {
			rs, err := renderStatement(s, cluster, db)
			if err != nil {
				return nil, fmt.Errorf("migrate: %s statement %d: %w", m.ID, i+1, err)
			}
			r.Statements = append(r.Statements, rs...)
		}
		out = append(out, r)
	}
	return out, nil
}

func renderStatement(s, cluster, db string) ([]string, error) {
	s = strings.TrimSpace(s)
	on := " ON CLUSTER " + cluster
	if m := createTableRe.FindStringSubmatch(s); m != nil {
		name, cols, engine, args, rest := m[1], m[2], m[3], m[4], m[5]
		local := name + LocalSuffix
		repl := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", db, local)
		if args != "" {
			repl += ", " + args
		}
		return []string{
			fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s\n%s\nENGINE = Replicated%s(%s)%s", db, local, on, cols, engine, repl, rest),
			distributed(name, cluster, db),
		}, nil
	}
	if m := createViewRe.FindStringSubmatch(s); m != nil {
		view, to, sel, from, rest := m[1], m[2], m[3], m[4], m[5]
		return []string{fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s%s TO %s.%s%s AS%s%s.%s%s%s",
			db, view, on, db, to, LocalSuffix, sel, db, from, LocalSuffix, rest)}, nil
	}
	if m := alterRe.FindStringSubmatch(s); m != nil {
		// 18.16 refuses ALTER … ON CLUSTER of a Distributed table when the shards replicate internally
		// (code 371): the Distributed table holds no rows (INSERTs are synchronous), so it is made anew
		// over the altered local table.
		return []string{
			fmt.Sprintf("ALTER TABLE %s.%s%s%s %s", db, m[1], LocalSuffix, on, m[2]),
			fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s", db, m[1], on),
			distributed(m[1], cluster, db),
		}, nil
	}
	if m := dropRe.FindStringSubmatch(s); m != nil {
		return []string{fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s", db, m[1], on)}, nil
	}
	return nil, errors.New("no cluster form for this statement (chstore.RenderCluster knows CREATE TABLE, CREATE MATERIALIZED VIEW … TO, ALTER TABLE, DROP TABLE IF EXISTS)")
}

func distributed(name, cluster, db string) string {
	key, ok := ShardingKeys[name]
	if !ok {
		key = "rand()"
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s%s ENGINE = Distributed(%s, %s, %s%s, %s)",
		db, name, cluster, db, name, LocalSuffix, cluster, db, name, LocalSuffix, key)
}

// MigrateCluster applies migrations rendered for cluster to database db, through conn (any host of the
// cluster; every host must answer, or the distributed DDL waits for it). The bookkeeping table
// schema_migrations is itself replicated and read through its Distributed table. After-hooks get conn and
// auth, the connection's user and password (Config.Auth): they read every replica as that user.
func MigrateCluster(ctx context.Context, conn driver.Conn, migrations []Migration, cluster, db string, auth Auth) ([]string, error) {
	rendered, err := RenderCluster(migrations, cluster, db)
	if err != nil {
		return nil, err
	}
	book, err := renderStatement(migrationsTable, cluster, db)
	if err != nil {
		return nil, err
	}
	setup := append([]string{fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", db, cluster)}, book...)
	for _, s := range setup {
		if err := conn.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("migrate: cluster %s: %w", cluster, err)
		}
	}
	return migrate(ctx, conn, rendered, "", auth)
}

// Topology is what a connection's database is on: a single server (Cluster empty) or the cluster schema.
type Topology struct {
	Database string
	Cluster  string   // from the Distributed table appeals; empty on a single server
	Shards   int      // shards of Cluster
	Replicas []string // host:port (native protocol) of every replica of every shard
	// ShardReplicas are Replicas by shard, in shard order: work that must run on each shard's own
	// server (a sharded rollup repair) picks one of them.
	ShardReplicas [][]string
	// Auth is who Remote's reads connect as on every replica: the caller's own user (Discover cannot
	// know it; the zero value is user default without a password, as remote() itself assumes).
	Auth Auth
}

// Auth is a ClickHouse user and password. Its String and LogValue never show the password, so a
// Topology or a config may be logged.
type Auth struct {
	User, Password string
}

func (a Auth) String() string {
	if a.Password == "" {
		return a.User
	}
	return a.User + " (password set)"
}

// LogValue keeps the password out of slog's output.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// Clustered reports the cluster schema.
func (t Topology) Clustered() bool { return t.Cluster != "" }

// Remote is a table function reading table on every replica of every shard (their union): with DISTINCT
// or max() it sees every part any replica holds, so a replica that lags its shard cannot hide rows. It
// fails when a replica does not answer. It connects as t.Auth, which must be a user of every replica
// (production clusters give user default a password: without its own credentials remote() would log in
// as default with none and fail). The password is part of the query's text: ClickHouse from 22.12 on
// writes it as [HIDDEN] in query_log and its logs; 18.16 does not (docs/cluster.md).
func (t Topology) Remote(database, table string) string {
	user := t.Auth.User
	if user == "" {
		user = "default"
	}
	return fmt.Sprintf("remote(%s, %s, %s, %s, %s)", Literal(strings.Join(t.Replicas, ",")), database, table,
		Literal(user), Literal(t.Auth.Password))
}

// TopologyOnce discovers a connection's topology on first use and keeps it: the schema does not change
// under a running process. The zero value is ready to use; a failed discovery is asked again next time.
type TopologyOnce struct {
	// Auth is set on the topology it discovers (Topology.Auth): the credentials of the connection.
	Auth Auth

	mu sync.Mutex
	t  *Topology
}

// Get returns conn's topology, discovering it the first time.
func (o *TopologyOnce) Get(ctx context.Context, conn driver.Conn) (Topology, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.t != nil {
		return *o.t, nil
	}
	t, err := Discover(ctx, conn)
	if err != nil {
		return t, err
	}
	t.Auth = o.Auth
	o.t = &t
	return t, nil
}

// Set fixes the answer without asking the server (a caller, or a test, that knows better).
func (o *TopologyOnce) Set(t Topology) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.t = &t
}

var distributedRe = regexp.MustCompile(`^Distributed\((\w+),`)

// Discover reads the topology of conn's database from ClickHouse itself: the engine of appeals, then the
// cluster's hosts.
func Discover(ctx context.Context, conn driver.Conn) (Topology, error) {
	var t Topology
	var engine string
	if err := conn.QueryRow(ctx, `SELECT currentDatabase(), any(engine_full) FROM system.tables
		WHERE database = currentDatabase() AND name = 'appeals'`).Scan(&t.Database, &engine); err != nil {
		return t, fmt.Errorf("clickhouse: topology: %w", err)
	}
	m := distributedRe.FindStringSubmatch(engine)
	if m == nil {
		return t, nil
	}
	t.Cluster = m[1]
	rows, err := conn.Query(ctx, `SELECT shard_num, host_address, port FROM system.clusters WHERE cluster = ?
		ORDER BY shard_num, replica_num`, t.Cluster)
	if err != nil {
		return t, fmt.Errorf("clickhouse: topology of cluster %s: %w", t.Cluster, err)
	}
	defer rows.Close()
	last := uint32(0)
	for rows.Next() {
		var shard uint32
		var host string
		var port uint16
		if err := rows.Scan(&shard, &host, &port); err != nil {
			return t, fmt.Errorf("clickhouse: topology of cluster %s: %w", t.Cluster, err)
		}
		addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
		if len(t.ShardReplicas) == 0 || shard != last {
			t.ShardReplicas = append(t.ShardReplicas, nil)
			last = shard
		}
		t.ShardReplicas[len(t.ShardReplicas)-1] = append(t.ShardReplicas[len(t.ShardReplicas)-1], addr)
		t.Replicas = append(t.Replicas, addr)
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("clickhouse: topology of cluster %s: %w", t.Cluster, err)
	}
	if len(t.Replicas) == 0 {
		return t, fmt.Errorf("clickhouse: appeals is Distributed over cluster %s, which this server's remote_servers lacks", t.Cluster)
	}
	t.Shards = len(t.ShardReplicas)
	return t, nil
}
