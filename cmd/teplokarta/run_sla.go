package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/processor/route"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/api"
	"github.com/teplokarta/teplokarta/processor/sla/auth"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

// slaEngine is the SLA engine of `run`: the same engine and API as `sla serve`, on the run's clock, with
// tokens made for this process (auth.Local) instead of a tokens file.
type slaEngine struct {
	eng    *sla.Engine
	tokens *auth.Local
	url    string // base URL of the API
	policy policy.Config
	srv    *http.Server
}

func startSLAEngine(ctx context.Context, env *cli.Env, brokers []string, rf *redisFlags, listen, policyPath string,
	conn driver.Conn, chAuth chstore.Auth, rdb redis.UniversalClient, clk sla.Clock) (*slaEngine, error) {
	pol, pcfg, err := loadPolicy(policyPath)
	if err != nil {
		return nil, err
	}
	cfg := sla.DefaultConfig()
	cfg.Brokers, cfg.KeyPrefix, cfg.Instance, cfg.Durability = brokers, *rf.prefix, "run", rf.durability()
	cfg.ClickHouseAuth = chAuth
	eng, err := sla.New(cfg, rdb, conn, pol, clk, env.Log, nil)
	if err != nil {
		return nil, err
	}
	toks, err := auth.NewLocal()
	if err != nil {
		eng.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		eng.Close()
		return nil, fmt.Errorf("sla api: %w", err)
	}
	mux := http.NewServeMux()
	api.New(eng, toks, env.Log, 10*time.Second).Register(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &slaEngine{eng: eng, tokens: toks, url: "http://" + ln.Addr().String(), policy: pcfg, srv: srv}, nil
}

func (s *slaEngine) close() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(sctx)
	_ = s.eng.Close()
}

// hello prints where the API is and a request that works right away.
func (s *slaEngine) hello(w io.Writer) {
	fmt.Fprintf(w, "\nSLA API %s (curator token of this run below; agencies' tokens are made per agency for the simulated executors)\n", s.url)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' '%s/v1/appeals?limit=3'\n", s.tokens.CuratorToken(), s.url)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' %s/v1/appeals/<appeal_id>\n\n", s.tokens.CuratorToken(), s.url)
}

// executorConfig sets the simulated agencies and curators on this engine. The curators hand an appeal
// back to the municipality's administration from the routing table (in Ryazan city: the category's
// city department), which is what the ЦУР's curators do with an appeal rejected as "not ours".
func (s *slaEngine) executorConfig(seed uint64, routingPath string, now func() time.Time, scale float64) (simulator.ExecutorConfig, error) {
	return executorConfig(s.url, s.tokens, s.policy, seed, routingPath, now, scale)
}

// executorConfig is the executors' configuration for an SLA API at url whose agency tokens toks derives.
func executorConfig(url string, toks *auth.Local, pcfg policy.Config, seed uint64, routingPath string,
	now func() time.Time, scale float64) (simulator.ExecutorConfig, error) {
	raw := route.DefaultYAML()
	if routingPath != "" {
		b, err := os.ReadFile(routingPath)
		if err != nil {
			return simulator.ExecutorConfig{}, fmt.Errorf("executors: %w", err)
		}
		raw = b
	}
	var tab route.Table
	if err := yaml.Unmarshal(raw, &tab); err != nil {
		return simulator.ExecutorConfig{}, fmt.Errorf("executors: routing table: %w", err)
	}
	pol, err := policy.New(pcfg)
	if err != nil {
		return simulator.ExecutorConfig{}, err
	}
	return simulator.ExecutorConfig{
		BaseURL: url, CuratorToken: toks.CuratorToken(), AgencyToken: toks.AgencyToken,
		Reassign: func(oktmo, category, current string) string {
			if a := tab.Administrations[oktmo]; a != "" && oktmo != tab.CityOKTMO {
				return a
			}
			if a := tab.CityDefaults[category]; a != "" {
				return a
			}
			return tab.CityDefaults["*"]
		},
		// Agencies keep office hours for appeals whose deadline counts working hours (deploy/sla.yaml: ПОС,
		// «Благоустройство»), and work round the clock on the others.
		Seed: seed, Now: now, Scale: scale, Calendar: pol.Calendar(), WorksInHours: pol.WorkingHours,
		// No resolution within 10 simulated minutes of its deadline, nor within 2 real seconds on a fast
		// timeline (at 1800× that is an hour): a command's trip through the API never decides "on time".
		Margin: max(10*time.Minute, time.Duration(scale*float64(2*time.Second))),
		// Listing open appeals is a FINAL read of appeal_sla: once per simulated minute is plenty (agencies
		// take minutes to react), within 1–30 real seconds.
		Poll: min(max(time.Duration(float64(time.Minute)/scale), time.Second), 30*time.Second),
	}, nil
}

// startSimExecutors starts `simulate --executors`: the agencies and curators against a separate SLA
// engine (`sla serve --agency-token-secret`) on the wall clock. stop ends them and waits; with an empty
// url it does nothing.
func startSimExecutors(ctx context.Context, env *cli.Env, url, secret, policyPath string, seed uint64) (*simulator.Executors, func(), error) {
	if url == "" {
		return nil, func() {}, nil
	}
	toks, err := auth.NewLocalSecret(secret)
	if err != nil {
		return nil, nil, err
	}
	_, pcfg, err := loadPolicy(policyPath)
	if err != nil {
		return nil, nil, err
	}
	ec, err := executorConfig(strings.TrimRight(url, "/"), toks, pcfg, seed, "", time.Now, 1)
	if err != nil {
		return nil, nil, err
	}
	ec.Log = env.Log
	ex, err := simulator.NewExecutors(ec)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ex.Run(ctx); err != nil {
			env.Log.Error("executors stopped", "err", err)
		}
	}()
	return ex, func() { cancel(); <-done }, nil
}
