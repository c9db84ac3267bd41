package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/obs"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/api"
	"github.com/teplokarta/teplokarta/processor/sla/auth"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
	"github.com/teplokarta/teplokarta/processor/sla/report"
)

func runSLA(ctx context.Context, env *cli.Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return runSLAServe(ctx, env, args[1:])
		case "report":
			return runSLAReport(ctx, env, args[1:])
		}
	}
	fmt.Fprintln(env.Stderr, "usage: teplokarta sla serve|report [flags]\n\n"+
		"  serve   consume appeals.status, run the SLA timers, serve the executor/curator API, /metrics, /healthz\n"+
		"  report  print overdue and at-risk appeals by agency (--since 24h)")
	return errUsage
}

func loadPolicy(path string) (*policy.Policy, policy.Config, error) {
	cfg := policy.DefaultConfig()
	if path != "" {
		var err error
		if cfg, err = policy.Load(path); err != nil {
			return nil, cfg, err
		}
	}
	p, err := policy.New(cfg)
	return p, cfg, err
}

func runSLAServe(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "sla serve", "Run an SLA engine instance: apply appeals.status (the single writer of SLA state), fire at-risk and\nbreach timers from Redis to appeals.sla, and serve the executor/curator HTTP API (--listen) and /metrics\n(--metrics-addr) on separate listeners. Run several with the same --group; each breach still fires once.")
	kb := addKafkaFlags(fs)
	ch := addClickHouseFlags(fs)
	rf := addRedisFlags(fs)
	d := sla.DefaultConfig()
	listen := fs.String("listen", "127.0.0.1:9470", "address of the executor/curator HTTP API and /healthz (never /metrics or profiles)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9471", "address of /metrics and /healthz (empty: off)")
	debugAddr := addDebugFlag(fs)
	tokens := fs.String("tokens", "", "tokens file: agency → tokens, curators (see deploy/sla-tokens.example.yaml); required")
	derived := fs.Secret("agency-token-secret", "also accept tokens derived from this secret for every agency and a curator\n(what `simulate --executors` uses in a demo stack); empty: off")
	policyPath := fs.String("config", "", "SLA policy YAML (deploy/sla.yaml); empty: 8 h for everything, at-risk 2 h before")
	group := fs.String("group", d.Group, "Kafka consumer group of appeals.status")
	instance := fs.String("instance", "", "instance name in logs (default: host name)")
	poll := fs.Duration("poll-interval", d.PollInterval, "how often due timers are claimed")
	wait := fs.Duration("api-wait", 10*time.Second, "how long an API request waits for its command to be applied (then 202)")
	check := addCheckConfigFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tokens == "" {
		fmt.Fprintln(env.Stderr, "sla serve: --tokens is required")
		return errUsage
	}
	toks, err := auth.Load(*tokens)
	if err != nil {
		return err
	}
	pol, _, err := loadPolicy(*policyPath)
	if err != nil {
		return err
	}
	cfg := d
	cfg.Brokers, cfg.Group, cfg.PollInterval, cfg.KeyPrefix = kb.addrs(), *group, *poll, *rf.prefix
	sec, secErr := kb.security()
	cfg.KafkaSecurity = sec
	cfg.Durability = rf.durability()
	cfg.ClickHouseAuth = ch.config().Auth()
	cfg.Instance = *instance
	if cfg.Instance == "" {
		cfg.Instance, _ = os.Hostname()
	}
	if *check {
		if err := errors.Join(cfg.Validate(), secErr, ch.config().Validate(), rf.config().Validate()); err != nil {
			return err
		}
		return configOK(env, "sla serve")
	}
	if secErr != nil {
		return secErr
	}
	conn, err := chstore.Open(ctx, ch.config())
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := chstore.MigrateProject(ctx, conn); err != nil { // appeal_sla_extra must exist
		return err
	}
	rdb, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := checkBrokers(ctx, env, cfg.Brokers, cfg.KafkaSecurity); err != nil {
		return err
	}
	reg := obs.NewRegistry()
	eng, err := sla.New(cfg, rdb, conn, pol, clock.Real{}, env.Log, sla.NewMetrics(reg))
	if err != nil {
		return err
	}
	defer eng.Close()
	// The API listener is published to the agencies: it serves the API and /healthz only; metrics and
	// profiles have listeners of their own.
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", obs.HealthHandler(healthOf(conn, rdb)))
	var authn api.Authenticator = toks
	if *derived != "" {
		local, err := auth.NewLocalSecret(*derived)
		if err != nil {
			return err
		}
		authn = auth.Any{toks, local}
	}
	api.New(eng, authn, env.Log, *wait).WithMetrics(api.NewMetrics(reg)).Register(mux)
	if err := obs.Serve(ctx, *listen, mux, env.Log); err != nil {
		return err
	}
	if err := obs.Serve(ctx, *metricsAddr, obs.Handler(reg, healthOf(conn, rdb)), env.Log); err != nil {
		return err
	}
	if _, err := obs.ServeDebug(ctx, *debugAddr, env.Log); err != nil {
		return err
	}
	env.Log.Info("sla engine starting", "brokers", *kb, "group", cfg.Group, "instance", cfg.Instance, "api", *listen)
	return eng.Run(ctx)
}

func runSLAReport(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "sla report", "Print open appeals received within --since that are overdue or due within the at-risk lead, by agency;\nthen the on-time share by agency (or --by day|municipality|category|source; days are the region's).")
	ch := addClickHouseFlags(fs)
	since := fs.Duration("since", 24*time.Hour, "look at appeals received this long ago or later")
	policyPath := fs.String("config", "", "SLA policy YAML, for the at-risk lead (default 2h)")
	tz := fs.String("timezone", model.RegionZone(model.DefaultRegion), "the region's calendar: time zone of printed deadlines and of days (--by day)")
	by := fs.String("by", string(report.ByAgency), "group the on-time share by agency, day, municipality, category or source")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *since <= 0 {
		fmt.Fprintln(env.Stderr, "sla report: --since must be positive")
		return errUsage
	}
	_, pcfg, err := loadPolicy(*policyPath)
	if err != nil {
		return err
	}
	loc, err := model.LoadZone(*tz)
	if err != nil {
		return fmt.Errorf("sla report: %w", err)
	}
	switch report.Dimension(*by) {
	case report.ByAgency, report.ByDay, report.ByMunicipality, report.ByCategory, report.BySource:
	default:
		fmt.Fprintf(env.Stderr, "sla report: --by %q is not agency, day, municipality, category or source\n", *by)
		return errUsage
	}
	conn, err := chstore.Open(ctx, ch.config())
	if err != nil {
		return err
	}
	defer conn.Close()
	now := time.Now().UTC()
	from := now.Add(-*since)
	ags, err := report.Curators(ctx, conn, from, now, pcfg.AtRiskBefore)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "SLA на %s (обращения с %s)\n\n", now.In(loc).Format("02.01.2006 15:04"), from.In(loc).Format("02.01.2006 15:04"))
	if err := report.Print(env.Stdout, ags, now, loc); err != nil {
		return err
	}
	rows, err := report.RollupIn(ctx, conn, report.Dimension(*by), from, now, loc)
	if err != nil {
		return err
	}
	head := map[string]string{"agency": "ведомство", "day": "день", "municipality": "муниципалитет", "category": "категория", "source": "источник"}[*by]
	fmt.Fprintf(env.Stdout, "\n%-40s %8s %8s %8s %8s %9s %9s\n", head, "всего", "решено", "в срок", "просроч.", "медиана", "p90")
	for _, r := range rows {
		name := r.Key
		if name == "" {
			name = "(не назначено)"
		}
		fmt.Fprintf(env.Stdout, "%-40s %8d %8d %7.0f%% %8d %9s %9s\n", name, r.Received, r.Resolved, 100*r.OnTimeShare(),
			r.OverdueOpen, r.Median.Round(time.Minute), r.P90.Round(time.Minute))
	}
	return nil
}
