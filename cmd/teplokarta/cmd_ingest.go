package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/backfill"
	"github.com/teplokarta/teplokarta/ingest/server"
	"github.com/teplokarta/teplokarta/ingest/vk"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/obs"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// ingestFlags are shared by `ingest` and `ingest backfill`: flags override the YAML file.
type ingestFlags struct {
	config, brokers *string
	kafka           *kafkaSecurityFlags // each given one overrides its kafka.* field
	pii             *piiFlags
}

func addIngestFlags(fs *cli.FlagSet) *ingestFlags {
	return &ingestFlags{
		config:  fs.String("config", "", "YAML config (see deploy/ingest.example.yaml); empty = local defaults: 127.0.0.1:8080, no auth, embedded broker"),
		brokers: fs.String("brokers", "", "Kafka bootstrap brokers, comma-separated (overrides kafka.brokers; default 127.0.0.1:19092)"),
		kafka:   addKafkaSecurityFlags(fs),
		pii:     addPIIFlags(fs), // --pii-key overrides pii_key
	}
}

func (f *ingestFlags) load() (ingest.Config, error) {
	cfg := ingest.DefaultConfig()
	if *f.config != "" {
		var err error
		if cfg, err = ingest.LoadConfig(*f.config); err != nil {
			return cfg, err
		}
	}
	if *f.brokers != "" {
		cfg.Kafka.Brokers = kafkax.SplitBrokers(*f.brokers)
	}
	k, s := &cfg.Kafka, f.kafka.securityConfig()
	k.TLS = k.TLS || s.TLS
	for _, o := range []struct {
		field *string
		flag  string
	}{{&k.CAFile, s.CAFile}, {&k.ServerName, s.ServerName},
		{&k.SASLMechanism, s.Mechanism}, {&k.User, s.User}, {&k.Password, s.Password}} {
		if o.flag != "" {
			*o.field = o.flag
		}
	}
	if *f.pii.key != "" {
		cfg.PIIKey = *f.pii.key
	}
	cfg.Local = *f.pii.local
	return cfg, nil
}

// ingestRuntime is what both subcommands build from the config.
type ingestRuntime struct {
	w   *kafkax.Writer
	in  *ingest.Ingestor
	reg *prometheus.Registry
}

func newIngestRuntime(ctx context.Context, env *cli.Env, cfg ingest.Config) (*ingestRuntime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	sec, err := cfg.Kafka.Security().Build()
	if err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafkax.WaitReady(wctx, cfg.Kafka.Brokers, sec); err != nil {
		return nil, err
	}
	if cfg.Kafka.EnsureTopics {
		topics := []string{model.TopicDLQ, model.TopicStatus}
		for _, s := range cfg.SourceNames() {
			topics = append(topics, model.RawTopic(s))
		}
		if err := kafkax.EnsureTopics(wctx, cfg.Kafka.Brokers, sec, cfg.Kafka.Partitions, topics...); err != nil {
			return nil, err
		}
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers, pc.BatchSize, pc.BatchTimeout, pc.Security = cfg.Kafka.Brokers, cfg.Kafka.BatchSize, cfg.Kafka.BatchTimeout, sec
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		return nil, err
	}
	parsers, err := cfg.Registry()
	if err != nil {
		return nil, err
	}
	schemas, err := ingest.NewSchemaValidator()
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	in := ingest.NewIngestor(parsers, schemas, w, ingest.NewMetrics(reg), env.Log)
	return &ingestRuntime{w: w, in: in, reg: reg}, nil
}

func runIngest(ctx context.Context, env *cli.Env, args []string) error {
	if len(args) > 0 && args[0] == "backfill" {
		return runIngestBackfill(ctx, env, args[1:])
	}
	fs := cli.NewFlagSet(env, "ingest", "Serve the ingest HTTP API: POST /v1/ingest/{source} and /v1/ingest/{source}/batch, the native\n"+
		"webhooks (/vk/callback, /nashdom/webhook, /112/cards, /pos/webhook), /metrics and /healthz; poll VK walls\n"+
		"when vk.poller is enabled. `teplokarta ingest backfill --help` imports exports. See docs/ingest.md.")
	f := addIngestFlags(fs)
	listen := fs.String("listen", "", "listen address (overrides listen; default 127.0.0.1:8080)")
	metricsAddr := fs.String("metrics-addr", "", "own address of /metrics and /healthz, so the sources' address does not serve\nmetrics (empty: /metrics on --listen)")
	debugAddr := addDebugFlag(fs)
	check := addCheckConfigFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *check {
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("ingest config: %w", err)
		}
		if _, err := cfg.Kafka.Security().Build(); err != nil { // the CA file too
			return fmt.Errorf("ingest config: %w", err)
		}
		return configOK(env, "ingest")
	}
	rt, err := newIngestRuntime(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer rt.w.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var gatherer prometheus.Gatherer = rt.reg
	if *metricsAddr != "" {
		gatherer = nil
		if err := obs.Serve(ctx, *metricsAddr, obs.Handler(rt.reg, nil), env.Log); err != nil {
			return err
		}
	}
	if _, err := obs.ServeDebug(ctx, *debugAddr, env.Log); err != nil {
		return err
	}
	h := server.New(cfg, rt.in, vk.NewCallback(cfg.VK, rt.in, env.Log), gatherer, env.Log)
	// The door refuses unauthenticated requests from their headers; ReadTimeout bounds how long an
	// authorised client may take to send a body (a 64 MiB batch at ~1 Mbit/s).
	srv := &http.Server{Addr: cfg.Listen, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	if cfg.VK.Poller.Enabled {
		p, err := vk.NewPoller(cfg.VK.Poller, rt.in, nil, env.Log)
		if err != nil {
			return err
		}
		go func() { _ = p.Run(ctx) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	env.Log.Info("ingest serving", "listen", cfg.Listen, "brokers", strings.Join(cfg.Kafka.Brokers, ","), "sources", strings.Join(cfg.SourceNames(), ","))
	select {
	case err := <-errc:
		return fmt.Errorf("ingest: %w", err)
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	// In-flight requests finish (and get their Kafka acks) before the writer closes.
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("ingest: shutdown: %w", err)
	}
	return nil
}

func runIngestBackfill(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "ingest backfill", "Import a source's export through the ingest validation into Kafka, with a progress bar on stderr and a\n"+
		"summary on stdout (read, sent, rejected by reason). Formats: csv («Наш дом» export: each row becomes the\n"+
		"portal's JSON record), json (array of raw messages), ndjson (one raw message per line).")
	f := addIngestFlags(fs)
	source := fs.String("source", "", "source name: vk, nashdom, 112, pos or a configured generic source")
	file := fs.String("file", "", "export file; - = stdin")
	format := fs.String("format", "", "csv, json or ndjson (default: from the file name)")
	eventTime := fs.String("event-time", "2019-03-29", "event time of CSV rows without a date: RFC 3339, or a date read as Moscow midnight (default: the shared export's date)")
	contentType := fs.String("content-type", "application/json", "content type of each message (e.g. application/json; charset=windows-1251)")
	batch := fs.Int("batch", 500, "messages per Kafka produce call")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *source == "" || *file == "" {
		fmt.Fprintln(env.Stderr, "ingest backfill: --source and --file are required")
		return errUsage
	}
	et, err := parseEventTime(*eventTime)
	if err != nil {
		fmt.Fprintln(env.Stderr, "ingest backfill: --event-time:", err)
		return errUsage
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	bc := backfill.Config{Source: *source, Format: *format, ContentType: *contentType, EventTime: et, BatchSize: *batch}
	if bc.Format == "" {
		bc.Format = backfill.FormatOf(*file)
	}
	if !*quiet {
		bc.Progress = env.Stderr
	}
	if err := bc.Validate(); err != nil {
		fmt.Fprintln(env.Stderr, err)
		return errUsage
	}
	in, size := env.Stdin, int64(-1)
	if *file != "-" {
		fh, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil {
			size = st.Size()
		}
		in = fh
	}
	rt, err := newIngestRuntime(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer rt.w.Close()
	if !rt.in.Known(*source) {
		return fmt.Errorf("ingest backfill: unknown source %q (configured: %s)", *source, strings.Join(cfg.SourceNames(), ", "))
	}
	sum, err := backfill.Run(ctx, bc, rt.in, in, size)
	sum.Write(env.Stdout)
	return err
}

// parseEventTime reads RFC 3339 or a bare date (midnight, Moscow time).
func parseEventTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or YYYY-MM-DD", s)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, sources.NashDomExportTime.Location()), nil
}
