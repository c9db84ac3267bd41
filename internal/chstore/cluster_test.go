package chstore_test

import (
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

func TestRenderCluster(t *testing.T) {
	got, err := chstore.RenderCluster(chstore.ProjectMigrations(), "c1", "db")
	if err != nil {
		t.Fatal(err) // every statement of the project's migrations must have a cluster form
	}
	all := ""
	for _, m := range got {
		for _, s := range m.Statements {
			if !strings.Contains(s, " ON CLUSTER c1") {
				t.Errorf("%s: not ON CLUSTER: %s", m.ID, s)
			}
			all += s + ";\n"
		}
	}
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS db.appeals_local ON CLUSTER c1",
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/appeals_local', '{replica}', version)",
		"CREATE TABLE IF NOT EXISTS db.appeals ON CLUSTER c1 AS db.appeals_local ENGINE = Distributed(c1, db, appeals_local, cityHash64(kafka_topic, kafka_partition))",
		"ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/appeal_counts_1m_local', '{replica}', (incidents, voices, late))",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS db.appeal_counts_1m_mv ON CLUSTER c1 TO db.appeal_counts_1m_local AS",
		"FROM db.appeals_local\nGROUP BY",
		"ALTER TABLE db.appeals_local ON CLUSTER c1 ADD COLUMN sla_deadline",
		"DROP TABLE IF EXISTS db.appeals ON CLUSTER c1",
		"Distributed(c1, db, appeal_sla_local, cityHash64(appeal_id))",
		"DROP TABLE IF EXISTS db.appeal_counts_1d_mv ON CLUSTER c1",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("rendered migrations lack %q", want)
		}
	}
	for _, bad := range []chstore.Migration{
		{ID: "x", Statements: []string{"INSERT INTO appeals (a) SELECT 1"}},
		{ID: "y", Statements: []string{"CREATE TABLE t (x UInt8) ENGINE = Log"}},
	} {
		if _, err := chstore.RenderCluster([]chstore.Migration{bad}, "c1", "db"); err == nil {
			t.Errorf("%s rendered, want a refusal", bad.ID)
		}
	}
	if _, err := chstore.RenderCluster(nil, "c-1", "db"); err == nil {
		t.Error("cluster name c-1 accepted")
	}
}
