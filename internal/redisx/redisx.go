// Package redisx opens the Redis client every component shares: one server, a Sentinel-managed master or
// a Redis Cluster, chosen by configuration through go-redis's universal client. docs/redis.md describes
// the modes, the key layout and what a failover may cost.
package redisx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Mode is how the addresses are read.
type Mode string

const (
	Single   Mode = "single"   // one address, one server
	Sentinel Mode = "sentinel" // a master name: the addresses are Sentinels, which name the current master
	Cluster  Mode = "cluster"  // several addresses and no master name: seed nodes of a Redis Cluster
)

// Config of the Redis connection. The zero value is not valid; start from DefaultConfig.
type Config struct {
	// Addrs are host:port addresses: the server (one), the Sentinels (with MasterName) or cluster seed
	// nodes (several, without MasterName — go-redis's rule). Default ["127.0.0.1:16379"].
	Addrs []string
	// MasterName is the Sentinel master name (`sentinel monitor <name> …`); empty: no Sentinel.
	MasterName string
	// Username and Password authenticate to the data nodes (the master and replicas, or cluster nodes).
	Username, Password string
	// SentinelPassword authenticates to the Sentinels (`requirepass` of the Sentinels); only with MasterName.
	SentinelPassword string
	// TLS dials every node with TLS 1.2 or later, verifying the certificate against the host dialled
	// (with Sentinel: the master address the Sentinels report).
	TLS bool
	// DialTimeout bounds one connection attempt. Default 5 s.
	DialTimeout time.Duration
	// Durability: what the dedup and SLA batches check before their writes count as stored (WAIT for
	// replicas, a master change). Not with Cluster: WAIT and INFO reach one node of many there.
	Durability Durability
}

// DefaultConfig is a single server on the local stack's port.
func DefaultConfig() Config {
	return Config{Addrs: []string{"127.0.0.1:16379"}, DialTimeout: 5 * time.Second}
}

// SplitAddrs splits a comma-separated address list, dropping blanks.
func SplitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Mode tells which client the configuration opens.
func (c Config) Mode() Mode {
	switch {
	case c.MasterName != "":
		return Sentinel
	case len(c.Addrs) > 1:
		return Cluster
	}
	return Single
}

// Validate reports every mistake at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Addrs) == 0 {
		errs = append(errs, errors.New("redis: no address"))
	}
	seen := map[string]bool{}
	for _, a := range c.Addrs {
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("redis: address %q is not host:port", a))
		}
		if seen[a] {
			errs = append(errs, fmt.Errorf("redis: address %q is listed twice", a))
		}
		seen[a] = true
	}
	if c.MasterName != "" && strings.ContainsAny(c.MasterName, " \t\r\n") {
		errs = append(errs, fmt.Errorf("redis: master name %q contains white space", c.MasterName))
	}
	if c.SentinelPassword != "" && c.MasterName == "" {
		errs = append(errs, errors.New("redis: a Sentinel password needs a master name (without one there are no Sentinels)"))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, errors.New("redis: dial timeout must not be negative"))
	}
	if err := c.Durability.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Mode() == Cluster && (c.Durability.Replicas > 0 || c.Durability.WatchMaster) {
		errs = append(errs, errors.New("redis: waiting for replicas is not supported with a Redis Cluster (several addresses, no master name)"))
	}
	return errors.Join(errs...)
}

// Options are the universal client's options for c.
func (c Config) Options() *redis.UniversalOptions {
	o := &redis.UniversalOptions{
		Addrs:            c.Addrs,
		MasterName:       c.MasterName,
		Username:         c.Username,
		Password:         c.Password,
		SentinelPassword: c.SentinelPassword,
		DialTimeout:      c.DialTimeout,
	}
	if w := c.Durability.Timeout + time.Second; c.Durability.Replicas > 0 && w > 3*time.Second {
		o.ReadTimeout = w // WAIT travels in a pipeline, which reads with ReadTimeout (3 s by default)
	}
	if c.TLS {
		// No ServerName: crypto/tls takes it from each dialled address, which differ between nodes.
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o
}

// EffectiveDurability is Durability with the master watched whenever Sentinel may switch it.
func (c Config) EffectiveDurability() Durability {
	d := c.Durability
	if c.Mode() == Sentinel {
		d.WatchMaster = true
	}
	return d
}

// New builds the client without dialling.
func New(c Config) (redis.UniversalClient, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return redis.NewUniversalClient(c.Options()), nil
}

// Open builds the client and pings it (with Sentinel, the master the Sentinels name), so a wrong address
// fails at start, not at the first batch.
func Open(ctx context.Context, c Config) (redis.UniversalClient, error) {
	rdb, err := New(c)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s at %s: %w", c.Mode(), strings.Join(c.Addrs, ","), err)
	}
	return rdb, nil
}
