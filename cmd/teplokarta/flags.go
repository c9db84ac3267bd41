package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// Flags shared by the commands that talk to the stack.

type chFlags struct {
	addr, db, user, password *string
	tls                      *bool
}

func addClickHouseFlags(fs *cli.FlagSet) *chFlags {
	d := chstore.DefaultConfig()
	return &chFlags{
		addr:     fs.String("clickhouse-addr", d.Addr, "ClickHouse native protocol address host:port"),
		db:       fs.String("clickhouse-database", d.Database, "ClickHouse database (created if missing)"),
		user:     fs.String("clickhouse-user", d.User, "ClickHouse user"),
		password: fs.Secret("clickhouse-password", "ClickHouse password"),
		tls:      fs.Bool("clickhouse-tls", false, "connect to ClickHouse with TLS"),
	}
}

func (f *chFlags) config() chstore.Config {
	c := chstore.DefaultConfig()
	c.Addr, c.Database, c.User, c.Password, c.TLS = *f.addr, *f.db, *f.user, *f.password, *f.tls
	return c
}

type redisFlags struct {
	addr, user, password, prefix *string
	tls                          *bool
}

func addRedisFlags(fs *cli.FlagSet) *redisFlags {
	return &redisFlags{
		addr:     fs.String("redis-addr", "127.0.0.1:16379", "Redis address host:port"),
		user:     fs.String("redis-user", "", "Redis ACL user (empty: the default user)"),
		password: fs.Secret("redis-password", "Redis password"),
		tls:      fs.Bool("redis-tls", false, "connect to Redis with TLS (system CA pool, TLS 1.2 or later)"),
		prefix:   fs.String("redis-prefix", "teplokarta:", "prefix of every Redis key (several deployments may share a Redis)"),
	}
}

func (f *redisFlags) open(ctx context.Context) (*redis.Client, error) {
	o := &redis.Options{Addr: *f.addr, Username: *f.user, Password: *f.password}
	if *f.tls {
		host, _, err := net.SplitHostPort(*f.addr)
		if err != nil {
			return nil, fmt.Errorf("--redis-addr: %w", err)
		}
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	c := redis.NewClient(o)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis at %s: %w", *f.addr, err)
	}
	return c, nil
}

// piiFlags choose the HMAC key of the identity hashes and say whether this is local mode.
type piiFlags struct {
	key   *string
	local *bool
}

func addPIIFlags(fs *cli.FlagSet) *piiFlags {
	return &piiFlags{
		key: fs.Secret("pii-key", "HMAC key of the hashes that replace authors' and callers' identities (at least 16 bytes; never change it:\n"+
			"hashes of one person must stay equal for dedup). Required unless --local"),
		local: fs.Bool("local", false, "local mode (make run, tests): without --pii-key the public built-in key is used. Never in production"),
	}
}

// resolve returns the key to hash with, refusing a missing or built-in key outside local mode.
func (f *piiFlags) resolve() (string, error) { return pii.ResolveKey(*f.key, *f.local) }

// addDebugFlag adds --debug-addr, the profiles' own listener: off by default, loopback IPs only.
func addDebugFlag(fs *cli.FlagSet) *string {
	return fs.String("debug-addr", "", "address of Go's profiles /debug/pprof/ — a loopback IP only, e.g. 127.0.0.1:6060 (empty: off)")
}

func addBrokersFlag(fs *cli.FlagSet) *string {
	return fs.String("brokers", "127.0.0.1:19092", "Kafka bootstrap brokers, comma-separated")
}

func brokers(s *string) []string { return kafkax.SplitBrokers(*s) }

// parse parses flags, turning -help into a clean exit and other mistakes into errUsage.
func parse(fs *cli.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		fmt.Fprintln(fs.Output(), err)
		return errUsage
	}
	return nil
}
