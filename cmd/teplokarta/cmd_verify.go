package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

// errDiffers makes `verify` exit non-zero when it found differences it did not repair.
var errDiffers = errors.New("rollups differ from appeals (run with --repair to rebuild them)")

func runVerify(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "verify", `Compare every rollup partition (appeal_counts_1m/1h/1d/1mo/oktmo_1d, by month or year) and every
Kafka partition's progress record with what appeals derive, and print the differences. With --repair,
rebuild each differing partition from appeals in a staging table and swap it in (REPLACE PARTITION),
and rewrite lagging progress records. Safe while processors run: it closes the rollup gate in Redis
(the processors' --redis-addr and --redis-prefix), so no INSERT runs while it reads and swaps.`)
	ch := addClickHouseFlags(fs)
	rf := addRedisFlags(fs)
	since := fs.Duration("since", 90*24*time.Hour, "check rollup partitions holding the last DURATION of event time and later (0 = all)")
	repair := fs.Bool("repair", false, "rebuild what differs")
	deep := fs.Bool("deep", false, "compare every key's counts, not only each partition's totals (slower; finds a row counted under another key)")
	noGate := fs.Bool("no-gate", false, "do not use Redis (only when no processor writes to this database)")
	check := addCheckConfigFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *since < 0 {
		return fmt.Errorf("verify: --since %s must not be negative", *since)
	}
	if *check {
		if err := errors.Join(ch.config().Validate(), rf.config().Validate()); err != nil {
			return err
		}
		return configOK(env, "verify")
	}
	conn, err := chstore.Open(ctx, ch.config())
	if err != nil {
		return err
	}
	defer conn.Close()
	var gate *rollup.Gate
	if !*noGate {
		rdb, err := rf.open(ctx)
		if err != nil {
			return fmt.Errorf("verify: %w (or --no-gate when no processor runs)", err)
		}
		defer rdb.Close()
		host, _ := os.Hostname()
		if gate, err = rollup.NewGate(rdb, rollup.GateConfig{KeyPrefix: *rf.prefix, Owner: fmt.Sprintf("verify/%s/%d", host, os.Getpid())}); err != nil {
			return err
		}
	}
	scope := rollup.Scope{Deep: *deep}
	if *since > 0 {
		scope.Since = time.Now().Add(-*since)
	}
	began := time.Now()
	rep, err := rollup.NewChecker(conn, gate, env.Log).WithDialer(ch.config().Dial).WithAuth(ch.config().Auth()).Check(ctx, scope, *repair)
	if err != nil {
		return err
	}
	printReport(env, rep, *repair, time.Since(began))
	if !rep.Clean() && !*repair {
		return errDiffers
	}
	return nil
}

func printReport(env *cli.Env, rep rollup.Report, repaired bool, took time.Duration) {
	w := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "table\tpartition\tvoices (appeals)\tvoices (rollup)\tincidents (appeals)\tincidents (rollup)\tlate (appeals)\tlate (rollup)\tkeys (appeals)\tkeys (rollup)\n")
	for _, d := range rep.Diffs {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", d.Table, d.Partition, d.Want.Voices, d.Got.Voices,
			d.Want.Incidents, d.Got.Incidents, d.Want.Late, d.Got.Late, d.Want.Keys, d.Got.Keys)
	}
	for _, p := range rep.Progress {
		fmt.Fprintf(w, "appeal_progress\t%s/%d\tmax offset %d\trecorded %d\t\t\t\t\t\t\n", p.Topic, p.Partition, p.Stored, p.Recorded)
	}
	_ = w.Flush()
	verb := "differ"
	if repaired {
		verb = "differed and were repaired"
	}
	fmt.Fprintf(env.Stdout, "%d rollup partitions checked in %s; %d %s, %d progress records behind\n",
		rep.Checked, took.Round(time.Millisecond), len(rep.Diffs), verb, len(rep.Progress))
}
