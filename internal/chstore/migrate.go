package chstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    id         String,
    applied_at DateTime
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY id`

// Migration is one numbered .sql file.
type Migration struct {
	ID         string // file name without .sql, e.g. 0001_appeals
	Statements []string
}

// LoadMigrations reads every *.sql file of dir in fsys, sorted by name.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		id := strings.TrimSuffix(n[strings.LastIndex(n, "/")+1:], ".sql")
		out = append(out, Migration{ID: id, Statements: SplitStatements(string(b))})
	}
	return out, nil
}

// SplitStatements splits a file on semicolons that end a line, dropping comment-only lines. The native
// protocol takes one statement per query.
func SplitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, s)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Applied returns the ids of applied migrations.
func Applied(ctx context.Context, conn driver.Conn) (map[string]bool, error) {
	return applied(ctx, conn, migrationsTable)
}

func applied(ctx context.Context, conn driver.Conn, book string) (map[string]bool, error) {
	if book != "" {
		if err := conn.Exec(ctx, book); err != nil {
			return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
		}
	}
	rows, err := conn.Query(ctx, "SELECT DISTINCT id FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		done[id] = true
	}
	return done, rows.Err()
}

// Migrate applies the migrations not recorded yet, in order, and returns the ids it applied. Every
// statement is idempotent (IF NOT EXISTS), so a crash between a statement and its record is harmless:
// the next run repeats the file.
func Migrate(ctx context.Context, conn driver.Conn, migrations []Migration) ([]string, error) {
	return migrate(ctx, conn, migrations, migrationsTable, Auth{})
}

// migrate applies migrations; book creates the bookkeeping table ("" when the caller made it); auth goes
// to the after-hooks.
func migrate(ctx context.Context, conn driver.Conn, migrations []Migration, book string, auth Auth) ([]string, error) {
	done, err := applied(ctx, conn, book)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range migrations {
		if done[m.ID] {
			continue
		}
		for i, s := range m.Statements {
			if err := conn.Exec(ctx, s); err != nil && !columnExists(s, err) {
				return applied, fmt.Errorf("migrate: %s statement %d: %w", m.ID, i+1, err)
			}
		}
		if h := afterHook(m.ID); h != nil {
			if err := h(ctx, conn, auth); err != nil {
				return applied, fmt.Errorf("migrate: %s after-hook: %w", m.ID, err)
			}
		}
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (id, applied_at)")
		if err != nil {
			return applied, fmt.Errorf("migrate: record %s: %w", m.ID, err)
		}
		if err := batch.Append(m.ID, time.Now().UTC()); err != nil {
			return applied, err
		}
		if err := batch.Send(); err != nil {
			return applied, fmt.Errorf("migrate: record %s: %w", m.ID, err)
		}
		applied = append(applied, m.ID)
	}
	return applied, nil
}

// AfterHook finishes a migration that SQL alone cannot, e.g. rebuilding rollups from appeals after their
// views changed. It runs after the migration's statements and before the migration is recorded, so a crash
// in between repeats both; it must therefore be idempotent. auth is the connection's user and password,
// for reads of every replica on a cluster (Topology.Remote); zero for a single server.
type AfterHook func(ctx context.Context, conn driver.Conn, auth Auth) error

var (
	hooksMu    sync.Mutex
	afterHooks = map[string]AfterHook{}
)

// RegisterAfter sets the hook of migration id. The package that knows how to do the work registers it
// (processor/rollup for 0012), so that every command linking it — migrate, run, sla — finishes the
// migration the same way; chstore cannot import it.
func RegisterAfter(id string, h AfterHook) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	afterHooks[id] = h
}

func afterHook(id string) AfterHook {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	return afterHooks[id]
}

// columnExists reports an ADD COLUMN that failed because an earlier run of the same migration added the
// column (18.16 lacks ADD COLUMN IF NOT EXISTS; ClickHouse's error code 44 with this message).
func columnExists(stmt string, err error) bool {
	var ex *clickhouse.Exception
	return strings.Contains(strings.ToUpper(stmt), "ADD COLUMN") && errors.As(err, &ex) && ex.Code == 44 &&
		strings.Contains(ex.Message, "already exists")
}

// Latest returns the id of the newest migration, the schema version a binary expects.
func Latest(migrations []Migration) string {
	if len(migrations) == 0 {
		return ""
	}
	return migrations[len(migrations)-1].ID
}
