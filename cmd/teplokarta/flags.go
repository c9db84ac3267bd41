package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/redisx"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// Flags shared by the commands that talk to the stack.

type chFlags struct {
	addr, db, user, password *string
	tls                      *bool
	replicaDelay             *time.Duration
}

func addClickHouseFlags(fs *cli.FlagSet) *chFlags {
	d := chstore.DefaultConfig()
	return &chFlags{
		addr:     fs.String("clickhouse-addr", d.Addr, "ClickHouse native protocol address host:port"),
		db:       fs.String("clickhouse-database", d.Database, "ClickHouse database (created if missing)"),
		user:     fs.String("clickhouse-user", d.User, "ClickHouse user"),
		password: fs.Secret("clickhouse-password", "ClickHouse password"),
		tls:      fs.Bool("clickhouse-tls", false, "connect to ClickHouse with TLS"),
		replicaDelay: fs.Duration("clickhouse-max-replica-delay", d.MaxReplicaDelay, "on a cluster, reads through Distributed tables skip a replica further behind than this\n"+
			"while another is closer (a negative value leaves it to the server's profile: 5 minutes by default)"),
	}
}

func (f *chFlags) config() chstore.Config {
	c := chstore.DefaultConfig()
	c.Addr, c.Database, c.User, c.Password, c.TLS = *f.addr, *f.db, *f.user, *f.password, *f.tls
	c.MaxReplicaDelay = *f.replicaDelay
	return c
}

type redisFlags struct {
	addr, master, user, password, sentinelPassword, prefix *string
	tls                                                    *bool
	waitReplicas                                           *int
	waitTimeout                                            *time.Duration
}

func addRedisFlags(fs *cli.FlagSet) *redisFlags {
	return &redisFlags{
		addr: fs.String("redis-addr", "127.0.0.1:16379", "Redis host:port, or a comma-separated list: the Sentinels (with --redis-master) or the\n"+
			"seed nodes of a Redis Cluster (several addresses without --redis-master)"),
		master:           fs.String("redis-master", "", "Sentinel master name: --redis-addr lists Sentinels, which name the current master (empty: no Sentinel)"),
		user:             fs.String("redis-user", "", "Redis ACL user (empty: the default user)"),
		password:         fs.Secret("redis-password", "Redis password"),
		sentinelPassword: fs.Secret("redis-sentinel-password", "password of the Sentinels (only with --redis-master)"),
		tls:              fs.Bool("redis-tls", false, "connect to Redis with TLS (system CA pool, TLS 1.2 or later)"),
		prefix:           fs.String("redis-prefix", "teplokarta:", "prefix of every Redis key (several deployments may share a Redis)"),
		waitReplicas: fs.Int("redis-wait-replicas", 0, "after each dedup and SLA batch (and each batch's route claims, --dedup-state partition), WAIT until this many replicas hold its writes, else redo the batch\n"+
			"(0: don't wait; a failover may then lose the last acknowledged writes — docs/redis.md). Not with a Cluster"),
		waitTimeout: fs.Duration("redis-wait-timeout", redisx.DefaultWaitTimeout, "how long WAIT waits for --redis-wait-replicas"),
	}
}

func (f *redisFlags) config() redisx.Config {
	c := redisx.DefaultConfig()
	c.Addrs, c.MasterName = redisx.SplitAddrs(*f.addr), *f.master
	c.Username, c.Password, c.SentinelPassword, c.TLS = *f.user, *f.password, *f.sentinelPassword, *f.tls
	c.Durability.Replicas, c.Durability.Timeout = *f.waitReplicas, *f.waitTimeout
	return c
}

// durability is what the dedup and SLA batches check: the flags', with the master watched under Sentinel.
func (f *redisFlags) durability() redisx.Durability { return f.config().EffectiveDurability() }

func (f *redisFlags) open(ctx context.Context) (redis.UniversalClient, error) {
	return redisx.Open(ctx, f.config())
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

// kafkaFlags are the Kafka brokers and how to connect to them (TLS, SASL).
type kafkaFlags struct {
	brokers *string
	*kafkaSecurityFlags
}

// kafkaSecurityFlags are how to connect to Kafka: TLS and SASL (docs/security.md#kafka).
type kafkaSecurityFlags struct {
	tls                                       *bool
	caFile, serverName, mechanism, user, pass *string
}

func addKafkaFlags(fs *cli.FlagSet) *kafkaFlags {
	return &kafkaFlags{brokers: fs.String("brokers", "127.0.0.1:19092", "Kafka bootstrap brokers, comma-separated"),
		kafkaSecurityFlags: addKafkaSecurityFlags(fs)}
}

func addKafkaSecurityFlags(fs *cli.FlagSet) *kafkaSecurityFlags {
	return &kafkaSecurityFlags{
		tls:        fs.Bool("kafka-tls", false, "connect to Kafka with TLS (implied by --kafka-ca-file and --kafka-server-name)"),
		caFile:     fs.String("kafka-ca-file", "", "PEM file of the CAs Kafka's certificates chain to (empty: the system's)"),
		serverName: fs.String("kafka-server-name", "", "name Kafka's certificates carry, when not the host dialed"),
		mechanism: fs.String("kafka-sasl-mechanism", "", "SASL mechanism: "+kafkax.MechanismScramSHA512+", "+kafkax.MechanismScramSHA256+
			" or "+kafkax.MechanismPlain+" (PLAIN only with TLS); empty: no authentication"),
		user: fs.String("kafka-user", "", "SASL user"),
		pass: fs.Secret("kafka-password", "SASL password"),
	}
}

func (k *kafkaFlags) addrs() []string { return kafkax.SplitBrokers(*k.brokers) }

func (k *kafkaSecurityFlags) securityConfig() kafkax.SecurityConfig {
	return kafkax.SecurityConfig{TLS: *k.tls, CAFile: *k.caFile, ServerName: *k.serverName, Mechanism: *k.mechanism,
		User: *k.user, Password: *k.pass}
}

// security builds the TLS and SASL settings (reading the CA file).
func (k *kafkaSecurityFlags) security() (kafkax.Security, error) { return k.securityConfig().Build() }

// checkBrokers fails when a broker address answers in another protocol (a port mixed up with ClickHouse's,
// Redis's or an HTTP one: kafka-go would read that answer as a huge Kafka response). Brokers that do not
// answer yet only get a warning: the consumers and writers retry until Kafka is up.
func checkBrokers(ctx context.Context, env *cli.Env, brokers []string, sec kafkax.Security) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := kafkax.CheckBrokers(cctx, brokers, sec)
	if kafkax.Misconfigured(err) {
		return fmt.Errorf("--brokers: %w", err)
	}
	if err != nil {
		env.Log.Warn("no Kafka broker answers yet; will keep trying", "brokers", strings.Join(brokers, ","), "security", sec, "err", err)
	}
	return nil
}

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
