// Package chstore opens ClickHouse connections (native protocol) and applies the schema migrations. The
// SQL it runs must work on ClickHouse 18.16 (local, CI) and 25.8 (production).
package chstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Config of a ClickHouse connection.
type Config struct {
	// Addr is host:port of the native protocol, or a comma-separated list of the replicas of a cluster:
	// connections go to the first that answers, in order, so a client fails over when one dies.
	// Default 127.0.0.1:19000 (local stack).
	Addr string
	// Cluster names the cluster of the cluster schema (docs/cluster.md), empty for a single server. It
	// makes every INSERT into a Distributed table synchronous (insert_distributed_sync=1): confirmed means
	// stored on its shard, which exactness needs. Open finds it itself when the database already has the
	// cluster schema (appeals is Distributed); migrate --cluster sets it to create that schema.
	Cluster     string
	Database    string        // default "teplokarta"; created by Open if missing
	User        string        // default "default"
	Password    string        //
	TLS         bool          // use TLS (production clusters)
	DialTimeout time.Duration // default 5s
	MaxConns    int           // default 8
	// MaxReplicaDelay: a read through a Distributed table skips a replica further behind its shard than
	// this while another is closer (ClickHouse's max_replica_delay_for_distributed_queries; the server's
	// own default is 5 minutes). A replica that has just come back may be minutes behind while it fetches
	// its queue, and a dashboard reading it would show counts dip. Default (0) DefaultMaxReplicaDelay;
	// negative: leave it to the server's profile. Nothing changes on a single server.
	MaxReplicaDelay time.Duration
}

// DefaultMaxReplicaDelay is Config.MaxReplicaDelay's default: well above a healthy replica's delay (under
// a second here) and far below the server's 5 minutes.
const DefaultMaxReplicaDelay = 10 * time.Second

// DefaultConfig is the local stack's ClickHouse.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:19000", Database: "teplokarta", User: "default", DialTimeout: 5 * time.Second, MaxConns: 8,
		MaxReplicaDelay: DefaultMaxReplicaDelay}
}

// ReplicaDelaySettings returns the connection settings that keep Distributed reads off a replica more than
// d behind (0: DefaultMaxReplicaDelay; negative: none, the server's profile decides). The Grafana plugin
// uses it too.
func ReplicaDelaySettings(d time.Duration) clickhouse.Settings {
	if d == 0 {
		d = DefaultMaxReplicaDelay
	}
	if d < 0 {
		return clickhouse.Settings{}
	}
	return clickhouse.Settings{"max_replica_delay_for_distributed_queries": max(int(d.Round(time.Second)/time.Second), 1)}
}

// Literal quotes s as a ClickHouse string literal (a backslash and a quote escaped by a backslash), for
// the few places a value cannot be a query parameter: table functions' arguments, literal IN lists.
func Literal(s string) string { return "'" + literalEscaper.Replace(s) + "'" }

var literalEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports configuration mistakes before any connection is tried.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("clickhouse: address is empty"))
	}
	for _, a := range c.Addrs() {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("clickhouse: address %q: %w", a, err))
		}
	}
	if c.Cluster != "" && !identRe.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("clickhouse: cluster name %q must be an identifier", c.Cluster))
	}
	if !identRe.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("clickhouse: database name %q must be an identifier", c.Database))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, errors.New("clickhouse: dial timeout must be positive"))
	}
	return errors.Join(errs...)
}

// Addrs splits Addr's list.
func (c Config) Addrs() []string {
	var out []string
	for _, a := range strings.Split(c.Addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (c Config) options(database string) *clickhouse.Options {
	o := &clickhouse.Options{
		Addr:             c.Addrs(),
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
		Auth:             clickhouse.Auth{Database: database, Username: c.User, Password: c.Password},
		DialTimeout:      c.DialTimeout,
		MaxOpenConns:     max(c.MaxConns, 1),
		Compression:      &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	}
	o.Settings = ReplicaDelaySettings(c.MaxReplicaDelay)
	if c.Cluster != "" {
		o.Settings["insert_distributed_sync"] = 1
	}
	if c.TLS {
		o.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o
}

// Auth is the connection's user and password.
func (c Config) Auth() Auth {
	return Auth{User: c.User, Password: c.Password}
}

// Dial connects to one server (host:port of the native protocol) with c's credentials and database: a
// shard's own server, for work that must run there (rollup.Dialer).
func (c Config) Dial(ctx context.Context, addr string) (driver.Conn, error) {
	c.Addr, c.MaxConns = addr, 2
	return Open(ctx, c)
}

// Open connects, creating the database if it does not exist yet.
func Open(ctx context.Context, c Config) (driver.Conn, error) {
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	boot, err := clickhouse.Open(c.options("default"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", c.Addr, err)
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.Database)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: create database %s at %s: %w", c.Database, c.Addr, err)
	}
	conn, err := connect(ctx, c)
	if err != nil || c.Cluster != "" {
		return conn, err
	}
	// A database with the cluster schema needs synchronous INSERTs into its Distributed tables whatever
	// the caller was told: an asynchronous one is confirmed once queued on the server the client talks
	// to, so a read right after it (the SLA engine's state, its reconcile) would not see the rows yet.
	topo, err := Discover(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if !topo.Clustered() {
		return conn, nil
	}
	conn.Close()
	c.Cluster = topo.Cluster
	return connect(ctx, c)
}

// connect opens c's database and checks that it answers.
func connect(ctx context.Context, c Config) (driver.Conn, error) {
	conn, err := clickhouse.Open(c.options(c.Database))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", c.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %s: %w", c.Addr, err)
	}
	return conn, nil
}
