package chstore_test

import (
	"context"
	"testing"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func TestSplitStatements(t *testing.T) {
	got := chstore.SplitStatements("-- comment\nCREATE TABLE a (x UInt8)\nENGINE = Log;\n\nCREATE TABLE b (y UInt8) ENGINE = Log;\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (x UInt8)\nENGINE = Log" || got[1] != "CREATE TABLE b (y UInt8) ENGINE = Log" {
		t.Fatalf("split: %q", got)
	}
}

func TestMigrateIsRerunnable(t *testing.T) {
	conn, _ := testenv.ClickHouse(t) // already migrated once
	ctx := context.Background()
	applied, err := chstore.MigrateProject(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second run applied %v, want nothing", applied)
	}
	done, err := chstore.Applied(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range chstore.ProjectMigrations() {
		if !done[m.ID] {
			t.Errorf("migration %s not recorded", m.ID)
		}
	}
	for _, table := range []string{"appeals", "appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_events", "appeal_sla"} {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
}
