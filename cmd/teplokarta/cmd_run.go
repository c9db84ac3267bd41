package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/server"
	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/ingest/vk"
	"github.com/teplokarta/teplokarta/internal/broker"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/heattable"
	"github.com/teplokarta/teplokarta/internal/model"
)

func runAll(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "run", "The embedded default, all in one process: Kafka-protocol broker (kfake, persisted in --data-dir),\ningest, processor and the simulator sending live traffic, over the local ClickHouse and Redis\n(deploy/local/stack.sh). Every --table-every it prints the current hour's appeals per municipality and\ncategory, read back from ClickHouse. Ctrl-C stops it cleanly.")
	bd := broker.DefaultConfig()
	port := fs.Int("broker-port", bd.Port, "loopback port of the embedded broker")
	dataDir := fs.String("data-dir", ".state/kafka", "broker persistence directory")
	ch := addClickHouseFlags(fs)
	rf := addRedisFlags(fs)
	pf := addProcessorFlags(fs)
	sf := addSimFlags(fs, 5)
	noSim := fs.Bool("no-simulator", false, "do not send simulated traffic")
	ingestAddr := fs.String("ingest-listen", "127.0.0.1:8080", "address of the ingest HTTP API (the simulator posts to it)")
	every := fs.Duration("table-every", 10*time.Second, "how often to print the heat table (0: never)")
	metrics := fs.String("metrics-addr", "127.0.0.1:9460", "address of /metrics and /healthz (empty: off)")
	if err := parse(fs, args); err != nil {
		return err
	}

	bd.Port, bd.DataDir = *port, *dataDir
	b, err := broker.Start(bd, env.Log)
	if err != nil {
		return err
	}
	defer b.Close()
	conn, err := chstore.Open(ctx, ch.config())
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := chstore.MigrateProject(ctx, conn); err != nil {
		return err
	}
	rdb, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()

	eng, err := startProcessor(ctx, env, pf, []string{b.Addr()}, *rf.prefix, conn, rdb, *metrics)
	if err != nil {
		return err
	}

	icfg := ingest.DefaultConfig()
	icfg.Kafka.Brokers, icfg.Listen, icfg.PIISalt = []string{b.Addr()}, *ingestAddr, *pf.salt
	rt, err := newIngestRuntime(ctx, env, icfg)
	if err != nil {
		return err
	}
	defer rt.w.Close()
	srv := &http.Server{Addr: icfg.Listen, Handler: server.New(icfg, rt.in, vk.NewCallback(icfg.VK, rt.in, env.Log), rt.reg, env.Log),
		ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", icfg.Listen)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(1)
	go func() { defer wg.Done(); errs <- eng.Run(ctx) }()
	if !*noSim {
		g, err := simulator.New(sf.config(time.Now().UTC()))
		if err != nil {
			return err
		}
		sink, closeSink, err := openSimSink("http://"+ln.Addr().String(), nil)
		if err != nil {
			return err
		}
		defer closeSink()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- simulator.Run(ctx, g, sink, simulator.RunConfig{Live: true}, simulator.NewTruth())
		}()
	}
	env.Log.Info("teplokarta is running: broker, ingest, processor and simulator", "broker", b.Addr(),
		"ingest", "http://"+ln.Addr().String(), "clickhouse", *ch.addr, "redis", *rf.addr)

	gz := geo.Default()
	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			env.Log.Info("stopping: simulator, processor (finishing its batch), broker")
			wg.Wait()
			return firstErr(errs)
		case err := <-errs:
			if err != nil {
				return err
			}
		case now := <-tick:
			from := now.UTC().Truncate(time.Hour)
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			tab, err := heattable.Query(qctx, conn, gz, model.DefaultRegion, from, from.Add(time.Hour))
			cancel()
			if err != nil {
				env.Log.Warn("heat table", "err", err)
				continue
			}
			_ = tab.Render(env.Stdout, 5)
		}
	}
}

func firstErr(errs chan error) error {
	for {
		select {
		case err := <-errs:
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		default:
			return nil
		}
	}
}
