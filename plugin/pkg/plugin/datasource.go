// Package plugin is the backend of the teplokarta-appeals-datasource Grafana plugin: it answers panel
// queries, variable and GeoJSON resources, a Grafana Live stream and the health check from ClickHouse.
package plugin

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/geo"
)

type muni = geo.Municipality

// ID is the plugin id shared with the frontend's plugin.json.
const ID = "teplokarta-appeals-datasource"

// Datasource is one configured datasource instance. Grafana creates it per settings version and disposes
// it when the settings change.
type Datasource struct {
	cfg Settings
	ch  driver.Conn
	rdb redis.UniversalClient // nil when no Redis is configured
	gaz *geo.Gazetteer
	now func() time.Time
	log log.Logger
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ backend.StreamHandler         = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Option adjusts a Datasource; tests use it to pin the clock.
type Option func(*Datasource)

// WithClock replaces time.Now (SLA "overdue now", the Live stream's current minute).
func WithClock(now func() time.Time) Option { return func(d *Datasource) { d.now = now } }

// NewDatasource is the SDK's instance factory.
func NewDatasource(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return New(ctx, s)
}

// Factory returns an instance factory with options, for tests and embedding.
func Factory(opts ...Option) func(context.Context, backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return func(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
		return New(ctx, s, opts...)
	}
}

// New builds an instance. It does not dial: an unreachable ClickHouse must still let the health check
// explain what is wrong.
func New(_ context.Context, s backend.DataSourceInstanceSettings, opts ...Option) (*Datasource, error) {
	cfg, err := LoadSettings(s)
	if err != nil {
		return nil, err
	}
	o := &clickhouse.Options{
		Addr:         []string{cfg.Addr()},
		Auth:         clickhouse.Auth{Database: cfg.Database, Username: cfg.Username, Password: cfg.Password},
		DialTimeout:  5 * time.Second,
		MaxOpenConns: 8,
		Compression:  &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	}
	if cfg.TLS {
		o.TLS = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.TLSSkipVerify} //nolint:gosec // operator's explicit choice
	}
	plain, err := clickhouse.Open(o)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", cfg.Addr(), err)
	}
	var ch driver.Conn = plain
	if delay := chstore.ReplicaDelaySettings(time.Duration(cfg.MaxReplicaDelaySeconds) * time.Second); len(delay) > 0 {
		withDelay := *o
		withDelay.Settings = delay
		conn, err := clickhouse.Open(&withDelay)
		if err != nil {
			plain.Close()
			return nil, fmt.Errorf("clickhouse %s: %w", cfg.Addr(), err)
		}
		ch = &replicaDelayConn{Conn: conn, plain: plain, log: log.DefaultLogger}
	}
	d := &Datasource{cfg: cfg, ch: ch, gaz: geo.Default(), now: time.Now, log: log.DefaultLogger}
	if cfg.RedisAddr != "" {
		// Validated with the settings; New does not dial, so an unreachable Redis shows in the health check.
		d.rdb = redis.NewUniversalClient(cfg.Redis().Options())
	}
	for _, opt := range opts {
		opt(d)
	}
	return d, nil
}

// Dispose closes the connections of a replaced instance.
func (d *Datasource) Dispose() {
	_ = d.ch.Close()
	if d.rdb != nil {
		_ = d.rdb.Close()
	}
}

func (d *Datasource) queryCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(d.cfg.QueryTimeoutSeconds)*time.Second)
}

// munName is the display name of an OKTMO code; unresolved appeals (empty code) are "не определено".
func (d *Datasource) munName(code string) string {
	if code == "" {
		return "не определено"
	}
	if m, err := d.gaz.ByOKTMO(code); err == nil {
		return m.DisplayName()
	}
	return code
}

// municipalities lists the gazetteer's municipalities inside the filter's regions and codes.
func (d *Datasource) municipalities(f Filters) []geo.Municipality {
	regions := f.regions(d.cfg.Region)
	want := map[string]bool{}
	for _, c := range f.Municipalities {
		want[c] = true
	}
	var out []geo.Municipality
	for _, m := range d.gaz.All() {
		if !contains(regions, m.Region) || len(want) > 0 && !want[m.OKTMO] {
			continue
		}
		out = append(out, m)
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
