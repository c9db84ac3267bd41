package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

// The datasource's queries carry the replica delay its settings name, on a real ClickHouse: what the
// server reports as the query's setting. Debian's users.xml has a user "readonly" (profile readonly=1):
// ClickHouse 18.16 ignores the setting for it and answers; later servers refuse, which
// TestReplicaDelayConnFallsBackWhenRefused covers.
func TestReplicaDelaySetting(t *testing.T) {
	_, cfg := testenv.ClickHouse(t)
	host, port, _ := net.SplitHostPort(cfg.Addr)
	p, _ := strconv.Atoi(port)
	cases := []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"default", nil, "10"},
		{"set", map[string]any{"maxReplicaDelaySeconds": 3}, "3"},
		{"left to the server", map[string]any{"maxReplicaDelaySeconds": -1}, "300"},
		{"read-only user", map[string]any{"username": "readonly"}, "300"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jd := map[string]any{"host": host, "port": p, "database": cfg.Database}
			for k, v := range c.extra {
				jd[k] = v
			}
			raw, _ := json.Marshal(jd)
			d, err := New(context.Background(), backend.DataSourceInstanceSettings{JSONData: raw})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Dispose()
			var got string
			if err := d.ch.QueryRow(context.Background(), `SELECT value FROM system.settings
				WHERE name = 'max_replica_delay_for_distributed_queries'`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("max_replica_delay_for_distributed_queries = %s, want %s", got, c.want)
			}
		})
	}
}

// fakeConn answers Query and QueryRow with err and counts the calls; nothing else is called.
type fakeConn struct {
	driver.Conn
	err   error
	calls int
}

func (f *fakeConn) Query(context.Context, string, ...any) (driver.Rows, error) {
	f.calls++
	return nil, f.err
}

func (f *fakeConn) QueryRow(context.Context, string, ...any) driver.Row {
	f.calls++
	return fakeRow{f.err}
}

type fakeRow struct{ err error }

func (r fakeRow) Err() error           { return r.err }
func (r fakeRow) Scan(...any) error    { return r.err }
func (r fakeRow) ScanStruct(any) error { return r.err }

// A server that refuses the setting (READONLY, as ClickHouse after 18.16 does for a readonly=1 user) gets
// the query again without it, and every later query goes without it at once; other errors are the
// caller's.
func TestReplicaDelayConnFallsBackWhenRefused(t *testing.T) {
	ctx := context.Background()
	other := &clickhouse.Exception{Code: 60, Message: "Table doesn't exist"}
	withDelay, plain := &fakeConn{err: other}, &fakeConn{}
	c := &replicaDelayConn{Conn: withDelay, plain: plain, log: log.DefaultLogger}
	if _, err := c.Query(ctx, "q"); !errors.Is(err, other) || plain.calls != 0 {
		t.Fatalf("another error: %v, %d plain calls; want it returned, none", err, plain.calls)
	}
	withDelay.err = &clickhouse.Exception{Code: errReadonly, Message: "Cannot modify setting in readonly mode"}
	if err := c.QueryRow(ctx, "q").Err(); err != nil || plain.calls != 1 || withDelay.calls != 2 {
		t.Fatalf("refused: %v, %d plain and %d delayed calls; want the plain answer", err, plain.calls, withDelay.calls)
	}
	for range 3 {
		if _, err := c.Query(ctx, "q"); err != nil {
			t.Fatal(err)
		}
		_ = c.QueryRow(ctx, "q")
	}
	if plain.calls != 7 || withDelay.calls != 2 {
		t.Errorf("after the refusal: %d plain and %d delayed calls, want 7 and 2", plain.calls, withDelay.calls)
	}
}
