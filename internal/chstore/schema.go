package chstore

import (
	"context"
	"io/fs"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/schemas"
)

// ProjectMigrations returns the migrations embedded in this binary.
func ProjectMigrations() []Migration {
	sub, err := fs.Sub(schemas.ClickHouse, ".")
	if err != nil {
		panic(err)
	}
	m, err := LoadMigrations(sub, "clickhouse")
	if err != nil {
		panic(err) // embedded at build time: a broken file is a build defect
	}
	return m
}

// MigrateProject applies the project's embedded migrations.
func MigrateProject(ctx context.Context, conn driver.Conn) ([]string, error) {
	return Migrate(ctx, conn, ProjectMigrations())
}
