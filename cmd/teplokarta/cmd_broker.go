package main

import (
	"context"
	"fmt"

	"github.com/teplokarta/teplokarta/internal/broker"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/obs"
)

func runBroker(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "broker", "Run the embedded Kafka-protocol broker (franz-go kfake) on loopback with the project's topics\ncreated explicitly, persisted in --data-dir. Any Kafka client (kafka-go, kcat) can use it.")
	d := broker.DefaultConfig()
	port := fs.Int("port", d.Port, "loopback port")
	dir := fs.String("data-dir", ".state/kafka", "persistence directory (empty: memory only)")
	sync := fs.Bool("sync-writes", false, "fsync every produce")
	parts := fs.Int("partitions", d.Partitions, "partitions of each topic created at start")
	metrics := fs.String("metrics-addr", "127.0.0.1:9461", "address of /metrics and /healthz (empty: off)")
	debug := addDebugFlag(fs)
	cert := fs.String("tls-cert-file", "", "PEM certificate of a TLS listener (with --tls-key-file); clients then need --kafka-tls")
	key := fs.String("tls-key-file", "", "PEM private key of --tls-cert-file")
	mech := fs.String("sasl-mechanism", "", "make clients authenticate: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)")
	user := fs.String("sasl-user", "", "the one SASL user (a superuser)")
	pass := fs.Secret("sasl-password", "its password")
	if err := parse(fs, args); err != nil {
		return err
	}
	d.Port, d.DataDir, d.SyncWrites, d.Partitions = *port, *dir, *sync, *parts
	d.SASL = broker.SASLUser{Mechanism: *mech, User: *user, Password: *pass}
	if *cert != "" || *key != "" {
		var err error
		if d.TLS, err = broker.ListenerTLS(*cert, *key); err != nil {
			return fmt.Errorf("--tls-cert-file/--tls-key-file: %w", err)
		}
	}
	b, err := broker.Start(d, env.Log)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := obs.Serve(ctx, *metrics, obs.Handler(obs.NewRegistry(), nil), env.Log); err != nil {
		return err
	}
	if _, err := obs.ServeDebug(ctx, *debug, env.Log); err != nil {
		return err
	}
	<-ctx.Done()
	env.Log.Info("broker stopping")
	return nil
}
