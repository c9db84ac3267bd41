package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/kafkax"
)

type simFlags struct {
	seed, firstID                                 *int64
	rate, exactDup, crossDup, late, bursts, vkGeo *float64
	rhythm                                        *bool
}

func addSimFlags(fs *cli.FlagSet, rate float64) *simFlags {
	d := simulator.DefaultConfig()
	return &simFlags{
		seed: fs.Int64("seed", int64(d.Seed), "random seed: the same seed sends the same messages"),
		firstID: fs.Int64("first-id", -1, "each source's ids start after this one; -1: after the start's Unix millisecond with --live\n"+
			"(a stack that already holds a run's appeals must get ids of its own, or the processor takes them for retries\n"+
			"of that run's), 0 without it (the same seed sends the same messages)"),
		rate:     fs.Float64("rate", rate, "mean appeals per second (before the daily/weekly rhythm)"),
		exactDup: fs.Float64("exact-dup", d.ExactDupRate, "share re-sent byte for byte (client retries)"),
		crossDup: fs.Float64("cross-dup", d.CrossDupRate, "share also filed through another source with the same text"),
		late:     fs.Float64("late", d.LateRate, "share arriving 5–90 minutes after it was written"),
		bursts:   fs.Float64("bursts-per-day", d.BurstsPerDay, "\"district without water\" bursts per simulated day"),
		vkGeo:    fs.Float64("vk-geo", d.VKGeoShare, "share of VK posts with coordinates"),
		rhythm:   fs.Bool("rhythm", true, "modulate the rate by hour of day and day of week"),
	}
}

// config is the generator's configuration. A live stream (live) with --first-id left at -1 gets the
// wall clock's millisecond as its first id: live traffic goes into a stack that may hold earlier runs'.
func (f *simFlags) config(start time.Time, live bool) simulator.Config {
	c := simulator.DefaultConfig()
	c.Seed, c.Start, c.Rate, c.Rhythm = uint64(*f.seed), start, *f.rate, *f.rhythm
	switch c.FirstID = *f.firstID; {
	case c.FirstID < 0 && live:
		c.FirstID = time.Now().UnixMilli()
	case c.FirstID < 0:
		c.FirstID = 0
	}
	c.ExactDupRate, c.CrossDupRate, c.LateRate, c.BurstsPerDay, c.VKGeoShare = *f.exactDup, *f.crossDup, *f.late, *f.bursts, *f.vkGeo
	return c
}

func runSimulate(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "simulate", "Send realistic simulated appeals of the four sources (VK, «Наш дом», 112, ПОС) in their own raw\nformats: to ingest's HTTP batch endpoint (--target http://host:port) or straight onto the raw Kafka\ntopics as ingest would (--target kafka). Live mode paces by the clock; otherwise it sends as fast as it\ncan with simulated arrival times ending now. --truth writes the simulator's ground truth as JSON.")
	sf := addSimFlags(fs, 20)
	kb := addKafkaFlags(fs)
	target := fs.String("target", "kafka", "kafka, or the base URL of ingest (http://127.0.0.1:8080)")
	live := fs.Bool("live", true, "pace by the wall clock; false sends as fast as possible")
	count := fs.Int("count", 0, "stop after this many messages (0: no limit)")
	duration := fs.Duration("duration", 0, "live: stop after this long; fast: simulate this span ending now (default 24h)")
	truthPath := fs.String("truth", "", "write the ground truth (totals and per-minute cells; with --executors their SLA outcomes) to this JSON file")
	ingestConfig := fs.String("ingest-config", "", "ingest YAML whose source auth (tokens, HMAC keys) signs the HTTP requests (--target http…)")
	execURL := fs.String("executors", "", "live: also play the agencies and curators through the SLA API at this base URL\n(http://127.0.0.1:9470); needs --agency-token-secret, the secret `sla serve` derives agency tokens from")
	execSecret := fs.Secret("agency-token-secret", "secret shared with `sla serve --agency-token-secret` (at least 16 bytes)")
	execPolicy := fs.String("sla-config", "", "SLA policy YAML: with working_hours: true the agencies work in its calendar's hours only")
	check := addCheckConfigFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *execURL != "" && (!*live || *execSecret == "") {
		fmt.Fprintln(env.Stderr, "simulate: --executors needs --live and --agency-token-secret")
		return errUsage
	}
	now := time.Now().UTC().Truncate(time.Second)
	start, until := now, time.Time{}
	if *live && *duration > 0 {
		until = now.Add(*duration)
	}
	if !*live {
		span := *duration
		if span == 0 {
			span = 24 * time.Hour
		}
		start, until = now.Add(-span), now
	}
	if *check {
		if err := sf.config(start, *live).Validate(); err != nil {
			return err
		}
		if _, err := simTarget(*target); err != nil {
			return err
		}
		if _, err := simSigner(*ingestConfig); err != nil {
			return err
		}
		if _, err := kb.security(); err != nil {
			return err
		}
		return configOK(env, "simulate")
	}
	g, err := simulator.New(sf.config(start, *live))
	if err != nil {
		return err
	}
	sign, err := simSigner(*ingestConfig)
	if err != nil {
		return err
	}
	sec, err := kb.security()
	if err != nil {
		return err
	}
	if isHTTP, err := simTarget(*target); err == nil && !isHTTP {
		if err := checkBrokers(ctx, env, kb.addrs(), sec); err != nil {
			return err
		}
	}
	sink, closeSink, err := openSimSink(*target, kb.addrs(), sec)
	if err != nil {
		return err
	}
	if hs, ok := sink.(simulator.HTTPSink); ok {
		hs.Sign = sign
		sink = hs
	}
	defer closeSink()
	truth := simulator.NewTruth()
	began := time.Now()
	ex, stopEx, err := startSimExecutors(ctx, env, *execURL, *execSecret, *execPolicy, uint64(*sf.seed))
	if err != nil {
		return err
	}
	err = simulator.Run(ctx, g, sink, simulator.RunConfig{Count: *count, Until: until, Live: *live}, truth)
	stopEx()
	fmt.Fprintf(env.Stderr, "sent %d messages in %s: %d unique appeals, %d retries, %d same-text copies, %d burst neighbours, %d late\n",
		truth.Messages, time.Since(began).Round(time.Millisecond), truth.Appeals, truth.Retries, truth.Voices, truth.NearVoices, truth.Late)
	if *truthPath != "" {
		out := struct {
			simulator.Report
			Executors *simulator.ExecutorReport `json:"executors,omitempty"`
		}{Report: truth.Report()}
		if ex != nil {
			r := ex.Truth().Report(time.Now())
			out.Executors = &r
		}
		b, jerr := json.MarshalIndent(out, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(*truthPath, b, 0o644)
		}
		if jerr != nil {
			return fmt.Errorf("write truth: %w", jerr)
		}
	}
	return err
}

// simTarget tells whether target is ingest's URL (true) or kafka (false), or refuses it.
func simTarget(target string) (http bool, err error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return true, nil
	}
	if target != "kafka" {
		return false, fmt.Errorf("--target %q: want kafka or an http(s) URL", target)
	}
	return false, nil
}

// simSigner signs the simulator's requests with the auth an ingest config gives each source.
func simSigner(path string) (func(string, http.Header, []byte), error) {
	if path == "" {
		return nil, nil
	}
	cfg, err := ingest.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	cfg.Local = true // the simulator only signs: it hashes no identity, so ingest's key is not its concern
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	return func(source string, h http.Header, body []byte) { cfg.Source(source).Auth.Sign(h, body) }, nil
}

func openSimSink(target string, brokers []string, sec kafkax.Security) (simulator.Sink, func(), error) {
	isHTTP, err := simTarget(target)
	if err != nil {
		return nil, nil, err
	}
	if isHTTP {
		return simulator.HTTPSink{BaseURL: strings.TrimRight(target, "/"), Client: &http.Client{Timeout: 30 * time.Second}}, func() {}, nil
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers, pc.Security = brokers, sec
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		return nil, nil, err
	}
	return simulator.KafkaSink{W: w}, func() { w.Close() }, nil
}
