// Command teplokarta is the single binary of the project: embedded broker, migrations, ingest, processor,
// simulator, the all-in-one local default, classifier training and the SLA tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/teplokarta/teplokarta/internal/cli"
)

var version = "dev" // set by the Makefile's -ldflags

// command is one subcommand. run parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, env *cli.Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"broker":   {"run the embedded Kafka-protocol broker (kfake) with persistence", runBroker},
		"migrate":  {"apply ClickHouse schema migrations (re-runnable)", runMigrate},
		"ingest":   {"serve the source webhooks/batch API, or `ingest backfill` a source's export", runIngest},
		"process":  {"run the stream processor: raw topics → ClickHouse (+ Redis)", runProcess},
		"simulate": {"send realistic simulated appeals of the four sources", runSimulate},
		"run":      {"all-in-one local default: broker + ingest + processor + SLA engine + simulator and executors; heat table and SLA block", runAll},
		"train":    {"train the classifier from a labeled CSV (id,text,category,theme,executor)", runTrain},
		"classify": {"classify JSON lines {id,text} from stdin, one JSON line out per input", runClassify},
		"map":      {"draw the heat map of the municipalities from ClickHouse as SVG or PNG (no Grafana)", runMap},
		"sla":      {"SLA engine: `sla serve` (timers + executor API), `sla report`", runSLA},
		"verify":   {"compare the rollups with appeals per partition; --repair rebuilds what differs", runVerify},
		"version":  {"print the version", runVersion},
	}
}

func usage(env *cli.Env) {
	fmt.Fprintf(env.Stderr, "teplokarta %s — stream processing and analytics of citizen appeals\n\n", env.Version)
	fmt.Fprintf(env.Stderr, "usage: teplokarta [--log-format text|json] [--log-level info] <command> [flags]\n\ncommands:\n")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(env.Stderr, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(env.Stderr, "\n`teplokarta <command> --help` lists a command's flags and their TEPLOKARTA_* variables.\n")
}

func main() {
	env := cli.OSEnv(version)
	os.Exit(realMain(env, os.Args[1:]))
}

func realMain(env *cli.Env, args []string) int {
	global := cli.NewFlagSet(env, "global", "")
	global.Usage = func() { usage(env) }
	format := global.String("log-format", "text", "log format: text or json")
	level := global.String("log-level", "info", "log level: debug, info, warn, error")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log, err := cli.NewLogger(env.Stderr, *format, *level)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 2
	}
	env.Log = log
	rest := global.Args()
	if len(rest) == 0 {
		usage(env)
		return 2
	}
	cmd, ok := commands()[rest[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "unknown command %q\n\n", rest[0])
		usage(env)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, env, rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		log.Error(rest[0]+" failed", "err", err)
		return 1
	}
	return 0
}

// errUsage marks a command-line mistake already explained to the user.
var errUsage = errors.New("usage")

func runVersion(_ context.Context, env *cli.Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "teplokarta", env.Version)
	return nil
}
