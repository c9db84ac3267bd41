package main

import (
	"context"
	"fmt"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/processor/rollup" // registers 0012's after-hook: rebuild the rollups
)

func runMigrate(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "migrate", "Apply the ClickHouse migrations embedded in this binary (schemas/clickhouse/*.sql) that are not\nrecorded in schema_migrations yet. Safe to run any number of times.\n"+
		"0012 (the region's calendar) also rebuilds the day and month rollups from appeals in the region's days:\n"+
		"stop the processors while it runs, or run `teplokarta verify --repair` after it.")
	ch := addClickHouseFlags(fs)
	cluster := fs.String("clickhouse-cluster", "", "create the cluster schema on this cluster of the servers' remote_servers: ON CLUSTER,\n"+
		"Replicated*MergeTree <table>_local + Distributed <table> (docs/cluster.md); empty: the single-server schema")
	clusterAlias := fs.String("cluster", "", "same as --clickhouse-cluster")
	check := addCheckConfigFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := ch.config()
	if cfg.Cluster = *cluster; cfg.Cluster == "" {
		cfg.Cluster = *clusterAlias
	}
	if *check {
		if err := cfg.Validate(); err != nil {
			return err
		}
		return configOK(env, "migrate")
	}
	if cfg.Cluster != "" {
		// One connection: 0012's after-hook builds a staging table and swaps it in, on one server.
		cfg.MaxConns = 1
	}
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	var applied []string
	if cfg.Cluster != "" {
		applied, err = chstore.MigrateCluster(ctx, conn, chstore.ProjectMigrations(), cfg.Cluster, cfg.Database, cfg.Auth())
	} else {
		applied, err = chstore.MigrateProject(ctx, conn)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "schema of %s is up to date (%s)\n", *ch.db, chstore.Latest(chstore.ProjectMigrations()))
		return nil
	}
	for _, id := range applied {
		fmt.Fprintf(env.Stdout, "applied %s\n", id)
		if id == rollup.CalendarMigration { // its after-hook (processor/rollup) ran inside Migrate
			fmt.Fprintln(env.Stdout, "  rebuilt from appeals in the region's days: appeal_counts_1d, appeal_counts_1mo, appeal_counts_oktmo_1d")
		}
	}
	return nil
}
