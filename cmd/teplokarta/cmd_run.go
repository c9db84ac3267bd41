package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/server"
	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/ingest/vk"
	"github.com/teplokarta/teplokarta/internal/broker"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/heattable"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/slaview"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
)

// runFlags are `run`'s flags.
type runFlags struct {
	port                *int
	dataDir             *string
	ch                  *chFlags
	rf                  *redisFlags
	pf                  *processorFlags
	sf                  *simFlags
	noSim, noExec       *bool
	simSpan             *time.Duration
	ingestAddr, slaAddr *string
	slaPolicy           *string
	timeScale           *float64
	every               *time.Duration
	metrics             *string
	bd                  broker.Config
}

func runFlagSet(env *cli.Env) (*cli.FlagSet, *runFlags) {
	fs := cli.NewFlagSet(env, "run", "The embedded default, all in one process: Kafka-protocol broker (kfake, persisted in --data-dir),\n"+
		"ingest, processor, the SLA engine with its API, and the simulator sending live traffic and playing the\n"+
		"agencies and curators through the SLA API, over the local ClickHouse and Redis (deploy/local/stack.sh).\n"+
		"Every --table-every it prints the current hour's appeals per municipality and category and the SLA\n"+
		"block (open, at risk, overdue, on-time share today, agencies with the most overdue incidents), read\n"+
		"back from ClickHouse. --sla-time-scale 60 plays one simulated hour per real minute. Ctrl-C stops it cleanly.")
	f := &runFlags{bd: broker.DefaultConfig()}
	f.port = fs.Int("broker-port", f.bd.Port, "loopback port of the embedded broker")
	f.dataDir = fs.String("data-dir", ".state/kafka", "broker persistence directory")
	f.ch = addClickHouseFlags(fs)
	f.rf = addRedisFlags(fs)
	f.pf = addProcessorFlags(fs)
	f.sf = addSimFlags(fs, 5)
	f.noSim = fs.Bool("no-simulator", false, "do not send simulated traffic")
	f.noExec = fs.Bool("no-executors", false, "do not play the agencies and curators (every incident then stays open)")
	f.simSpan = fs.Duration("sim-duration", 0, "stop the simulated traffic after this much simulated time (0: never)")
	f.ingestAddr = fs.String("ingest-listen", "127.0.0.1:8080", "address of the ingest HTTP API (the simulator posts to it)")
	f.slaAddr = fs.String("sla-listen", "127.0.0.1:9470", "address of the SLA API (the simulated executors call it)")
	f.slaPolicy = fs.String("sla-config", "", "SLA policy YAML (deploy/sla.yaml); empty: 8 h for everything, at-risk 2 h before")
	f.timeScale = fs.Float64("sla-time-scale", 1, "simulated seconds per real second for the whole run (60: an hour a minute, deadlines\n"+
		"pass in minutes); stored times are simulated and run ahead of the wall clock — see README. 1: real time")
	f.every = fs.Duration("table-every", 10*time.Second, "how often to print the heat table and the SLA block (0: never)")
	f.metrics = fs.String("metrics-addr", "127.0.0.1:9460", "address of /metrics and /healthz (empty: off)")
	return fs, f
}

// runStack is everything `run` starts. Tests build it the same way.
type runStack struct {
	clk       sla.Clock
	scale     float64
	conn      driver.Conn
	rdb       redis.UniversalClient
	brokerAdr string
	ingestURL string
	sla       *slaEngine
	simTruth  *simulator.Truth
	executors *simulator.Executors // nil with --no-executors

	errs     chan error
	wg       sync.WaitGroup
	stopSim  context.CancelFunc
	simDone  chan struct{}
	stopExec context.CancelFunc
	execDone chan struct{}
	closers  []func()
}

// startRun starts broker, ingest, processor, SLA engine, simulator and executors; ctx ends them.
func startRun(ctx context.Context, env *cli.Env, f *runFlags) (_ *runStack, err error) {
	s := &runStack{errs: make(chan error, 8), scale: *f.timeScale, simDone: make(chan struct{}), execDone: make(chan struct{})}
	*f.pf.pii.local = true // run is local mode by definition: embedded broker, everything on loopback
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	s.clk = clock.Real{}
	if s.scale != 1 {
		// One timeline for the whole run: the simulator's arrival and event times, ingest's received
		// time, the SLA engine's deadlines and timers, the executors and the screen all read this clock.
		if s.clk, err = clock.NewScaled(time.Now(), s.scale); err != nil {
			return nil, fmt.Errorf("--sla-time-scale: %w", err)
		}
	}
	bd := f.bd
	bd.Port, bd.DataDir = *f.port, *f.dataDir
	b, err := broker.Start(bd, env.Log)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, b.Close)
	s.brokerAdr = b.Addr()
	if s.conn, err = chstore.Open(ctx, f.ch.config()); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.conn.Close() })
	if _, err := chstore.MigrateProject(ctx, s.conn); err != nil {
		return nil, err
	}
	if s.rdb, err = f.rf.open(ctx); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.rdb.Close() })

	proc, err := startProcessor(ctx, env, f.pf, []string{b.Addr()}, kafkax.Security{}, f.rf, s.conn, f.ch.config(), s.rdb, *f.metrics)
	if err != nil {
		return nil, err
	}
	if s.sla, err = startSLAEngine(ctx, env, []string{b.Addr()}, f.rf, *f.slaAddr, *f.slaPolicy, s.conn, f.ch.config().Auth(), s.rdb, s.clk); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.sla.close)

	icfg := ingest.DefaultConfig()
	icfg.Kafka.Brokers, icfg.Listen = []string{b.Addr()}, *f.ingestAddr
	if icfg.PIIKey, err = f.pf.pii.resolve(); err != nil {
		return nil, err
	}
	rt, err := newIngestRuntime(ctx, env, icfg)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { rt.w.Close() })
	rt.in.WithClock(s.clk.Now) // received time on the run's timeline
	srv := &http.Server{Handler: server.New(icfg, rt.in, vk.NewCallback(icfg.VK, rt.in, env.Log), rt.reg, env.Log),
		ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", icfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	go func() { _ = srv.Serve(ln) }()
	s.closers = append(s.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	s.ingestURL = "http://" + ln.Addr().String()

	// The processor and the SLA engine stop after the simulator and the executors, so that no command
	// in flight meets an engine that is already gone.
	core, stopCore := context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Go(func() { s.errs <- proc.Run(core) })
	s.wg.Go(func() { s.errs <- s.sla.eng.Run(core) })
	go func() {
		<-ctx.Done()
		<-s.simDone
		<-s.execDone
		stopCore()
	}()

	simCtx, stopSim := context.WithCancel(ctx)
	s.stopSim = stopSim
	s.simTruth = simulator.NewTruth()
	if *f.noSim {
		close(s.simDone)
	} else {
		// --rate is per real second: on a scaled timeline the generator's own rate is divided by the
		// scale, so the machine's load stays what was asked while a simulated day passes faster.
		// Live: the stack keeps earlier runs' appeals and the processor their ids (30 days), so each run's
		// ids start at its wall-clock millisecond, past any earlier run's (at under 1,000 appeals per second
		// and source); else its traffic would be taken for retries until it passed theirs.
		cfg := f.sf.config(s.clk.Now(), true)
		cfg.Rate /= s.scale
		g, err := simulator.New(cfg)
		if err != nil {
			return nil, err
		}
		target := s.ingestURL
		if s.scale != 1 {
			// Ingest's HTTP batch endpoint stamps wall-clock receipt times, which would put every simulated
			// event "in the future"; on a scaled timeline the simulator writes the raw records ingest would
			// make (same topic, key, bytes and headers) with received_at = its simulated arrival time.
			target = "kafka"
		}
		sink, closeSink, err := openSimSink(target, []string{b.Addr()}, kafkax.Security{})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, closeSink)
		rc := simulator.RunConfig{Live: true, Now: s.clk.Now, Scale: s.scale}
		if *f.simSpan > 0 {
			rc.Until = cfg.Start.Add(*f.simSpan)
		}
		s.wg.Go(func() {
			defer close(s.simDone)
			s.errs <- simulator.Run(simCtx, g, sink, rc, s.simTruth)
		})
	}

	execCtx, stopExec := context.WithCancel(ctx)
	s.stopExec = stopExec
	if *f.noExec {
		close(s.execDone)
	} else {
		ec, err := s.sla.executorConfig(uint64(*f.sf.seed), *f.pf.classify.routing, s.clk.Now, s.scale)
		if err != nil {
			return nil, err
		}
		ec.Log = env.Log
		if s.executors, err = simulator.NewExecutors(ec); err != nil {
			return nil, err
		}
		s.wg.Go(func() {
			defer close(s.execDone)
			s.errs <- s.executors.Run(execCtx)
		})
	}
	return s, nil
}

// close releases what startRun opened, last first; the goroutines must have ended (ctx done, wait).
func (s *runStack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// wait waits for every component to stop after ctx ended and returns the first real error.
func (s *runStack) wait() error {
	s.wg.Wait()
	return firstErr(s.errs)
}

// StopExecutors ends the simulated agencies and curators and waits for their calls in flight.
func (s *runStack) StopExecutors() { s.stopExec(); <-s.execDone }

func runAll(ctx context.Context, env *cli.Env, args []string) error {
	fs, f := runFlagSet(env)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := startRun(ctx, env, f)
	if err != nil {
		return err
	}
	defer s.close()
	env.Log.Info("teplokarta is running: broker, ingest, processor, SLA engine, simulator and executors", "broker", s.brokerAdr,
		"ingest", s.ingestURL, "sla_api", s.sla.url, "clickhouse", *f.ch.addr, "redis", *f.rf.addr, "time_scale", s.scale)
	s.sla.hello(env.Stdout)

	gz := geo.Default()
	var tick <-chan time.Time
	if *f.every > 0 {
		t := time.NewTicker(*f.every)
		defer t.Stop()
		tick = t.C
	}
	vcfg := slaview.DefaultConfig()
	for {
		select {
		case <-ctx.Done():
			env.Log.Info("stopping: simulator, executors, processor (finishing its batch), SLA engine, broker")
			return s.wait()
		case err := <-s.errs:
			if err != nil && !errors.Is(err, context.Canceled) {
				cancel()
				s.wg.Wait()
				return err
			}
		case <-tick:
			now := s.clk.Now()
			from, to := heattable.CurrentHour(now, model.DefaultRegion)
			qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
			tab, err := heattable.Query(qctx, s.conn, gz, model.DefaultRegion, from, to)
			var v slaview.View
			if err == nil {
				v, err = slaview.Query(qctx, s.conn, vcfg, now)
			}
			qcancel()
			if err != nil {
				env.Log.Warn("terminal view", "err", err)
				continue
			}
			_ = tab.Render(env.Stdout, 5)
			_ = v.Render(env.Stdout, vcfg.Location)
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
