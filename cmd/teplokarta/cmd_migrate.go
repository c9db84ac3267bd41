package main

import (
	"context"
	"fmt"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
)

func runMigrate(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "migrate", "Apply the ClickHouse migrations embedded in this binary (schemas/clickhouse/*.sql) that are not\nrecorded in schema_migrations yet. Safe to run any number of times.")
	ch := addClickHouseFlags(fs)
	check := addCheckConfigFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *check {
		if err := ch.config().Validate(); err != nil {
			return err
		}
		return configOK(env, "migrate")
	}
	conn, err := chstore.Open(ctx, ch.config())
	if err != nil {
		return err
	}
	defer conn.Close()
	applied, err := chstore.MigrateProject(ctx, conn)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "schema of %s is up to date (%s)\n", *ch.db, chstore.Latest(chstore.ProjectMigrations()))
		return nil
	}
	for _, id := range applied {
		fmt.Fprintf(env.Stdout, "applied %s\n", id)
	}
	return nil
}
