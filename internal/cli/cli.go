// Package cli holds what every subcommand of bin/teplokarta shares: flags that fall back to TEPLOKARTA_*
// environment variables, logging setup and the signal-bound context. Only main packages use it.
package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env is what main hands every subcommand: streams, environment and logger. Subcommands read flags and
// environment only through it, never through globals.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Log            *slog.Logger
	Version        string
}

// EnvName turns a flag name into its environment variable: clickhouse-addr → TEPLOKARTA_CLICKHOUSE_ADDR.
func EnvName(flagName string) string {
	return "TEPLOKARTA_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// FlagSet wraps flag.FlagSet so that every flag's default can come from its environment variable and the
// help text names that variable.
type FlagSet struct {
	*flag.FlagSet
	env  *Env
	errs []error
}

// NewFlagSet creates a flag set whose usage prints the summary and every flag with its variable.
func NewFlagSet(env *Env, name, summary string) *FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: teplokarta %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", name, summary)
		fs.PrintDefaults()
	}
	return &FlagSet{FlagSet: fs, env: env}
}

func (f *FlagSet) lookup(name string) (string, bool) {
	v := f.env.Getenv(EnvName(name))
	return v, v != ""
}

func (f *FlagSet) usage(name, usage string) string { return usage + " [$" + EnvName(name) + "]" }

// String defines a string flag.
func (f *FlagSet) String(name, def, usage string) *string {
	if v, ok := f.lookup(name); ok {
		def = v
	}
	return f.FlagSet.String(name, def, f.usage(name, usage))
}

// Int defines an int flag.
func (f *FlagSet) Int(name string, def int, usage string) *int {
	if v, ok := f.lookup(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: %w", EnvName(name), v, err))
		} else {
			def = n
		}
	}
	return f.FlagSet.Int(name, def, f.usage(name, usage))
}

// Int64 defines an int64 flag.
func (f *FlagSet) Int64(name string, def int64, usage string) *int64 {
	if v, ok := f.lookup(name); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: %w", EnvName(name), v, err))
		} else {
			def = n
		}
	}
	return f.FlagSet.Int64(name, def, f.usage(name, usage))
}

// Float64 defines a float flag.
func (f *FlagSet) Float64(name string, def float64, usage string) *float64 {
	if v, ok := f.lookup(name); ok {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: %w", EnvName(name), v, err))
		} else {
			def = n
		}
	}
	return f.FlagSet.Float64(name, def, f.usage(name, usage))
}

// Bool defines a bool flag.
func (f *FlagSet) Bool(name string, def bool, usage string) *bool {
	if v, ok := f.lookup(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: %w", EnvName(name), v, err))
		} else {
			def = b
		}
	}
	return f.FlagSet.Bool(name, def, f.usage(name, usage))
}

// Duration defines a duration flag.
func (f *FlagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	if v, ok := f.lookup(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: %w", EnvName(name), v, err))
		} else {
			def = d
		}
	}
	return f.FlagSet.Duration(name, def, f.usage(name, usage))
}

// Parse parses args; environment values that failed to parse are reported here.
func (f *FlagSet) Parse(args []string) error {
	if len(f.errs) > 0 {
		return fmt.Errorf("bad environment: %v", f.errs)
	}
	return f.FlagSet.Parse(args)
}

// NewLogger builds the process logger: text for people, JSON for log collectors.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// OSEnv is the Env of a real process.
func OSEnv(version string) *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil)), Version: version}
}
