package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/redisx"
)

// CheckHealth checks, in order, that ClickHouse answers, that its schema is the one this plugin was built
// for, and that Redis answers (when configured). Every problem is reported with what to do about it.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var ok, bad []string
	if msg, err := d.checkClickHouse(ctx); err != nil {
		bad = append(bad, err.Error())
	} else {
		ok = append(ok, msg)
	}
	switch {
	case d.rdb == nil:
		ok = append(ok, "Redis not configured (variable lists are not cached)")
	default:
		if err := d.rdb.Ping(ctx).Err(); err != nil {
			bad = append(bad, fmt.Sprintf("%s is unreachable: %v", d.redisName(), err))
		} else {
			ok = append(ok, d.redisName()+" OK")
		}
	}
	if len(bad) > 0 {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: strings.Join(bad, "; ")}, nil
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: strings.Join(ok, "; ")}, nil
}

func (d *Datasource) checkClickHouse(ctx context.Context) (string, error) {
	var version string
	if err := d.ch.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return "", fmt.Errorf("ClickHouse at %s is unreachable: %w", d.cfg.Addr(), err)
	}
	want := chstore.Latest(chstore.ProjectMigrations())
	var n uint64
	err := d.ch.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'").Scan(&n)
	if err != nil {
		return "", fmt.Errorf("ClickHouse at %s: cannot read the table list of database %s: %w", d.cfg.Addr(), d.cfg.Database, err)
	}
	if n == 0 {
		return "", fmt.Errorf("database %s has no schema (schema_migrations is missing): run `teplokarta migrate`", d.cfg.Database)
	}
	var has, latest string
	if err := d.ch.QueryRow(ctx, "SELECT max(id), toString(countIf(id = ?)) FROM schema_migrations", want).Scan(&latest, &has); err != nil {
		return "", fmt.Errorf("database %s: read schema_migrations: %w", d.cfg.Database, err)
	}
	if has == "0" {
		if latest == "" {
			latest = "none"
		}
		return "", fmt.Errorf("database %s is at schema version %s, the plugin expects %s: run `teplokarta migrate`", d.cfg.Database, latest, want)
	}
	return fmt.Sprintf("ClickHouse %s at %s, database %s, schema %s", version, d.cfg.Addr(), d.cfg.Database, want), nil
}

// redisName says which Redis the health check reached, in the words of its configuration.
func (d *Datasource) redisName() string {
	switch c := d.cfg.Redis(); c.Mode() {
	case redisx.Sentinel:
		return fmt.Sprintf("Redis master %s via Sentinels %s", c.MasterName, d.cfg.RedisAddr)
	case redisx.Cluster:
		return "Redis Cluster at " + d.cfg.RedisAddr
	}
	return "Redis at " + d.cfg.RedisAddr
}
