// Package cli holds what every subcommand of bin/teplokarta shares: flags that fall back to TEPLOKARTA_*
// environment variables, logging setup and the signal-bound context. Only main packages use it.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
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

// FlagSet wraps flag.FlagSet so that every flag can also come from its environment variable and the help
// text names that variable. Environment values are applied after the command line is parsed, never as
// flag defaults: the flag package prints defaults in --help and after every mistyped flag, and a password
// read from the environment must not end up on a terminal or in a CI log.
type FlagSet struct {
	*flag.FlagSet
	env     *Env
	secrets []*secret
}

// secret is a flag whose value may also come from a file (Docker and Kubernetes secrets).
type secret struct {
	name  string
	value *string
	file  *string
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

func (f *FlagSet) usage(name, usage string) string { return usage + " [$" + EnvName(name) + "]" }

// String defines a string flag.
func (f *FlagSet) String(name, def, usage string) *string {
	return f.FlagSet.String(name, def, f.usage(name, usage))
}

// Int defines an int flag.
func (f *FlagSet) Int(name string, def int, usage string) *int {
	return f.FlagSet.Int(name, def, f.usage(name, usage))
}

// Int64 defines an int64 flag.
func (f *FlagSet) Int64(name string, def int64, usage string) *int64 {
	return f.FlagSet.Int64(name, def, f.usage(name, usage))
}

// Float64 defines a float flag.
func (f *FlagSet) Float64(name string, def float64, usage string) *float64 {
	return f.FlagSet.Float64(name, def, f.usage(name, usage))
}

// Bool defines a bool flag.
func (f *FlagSet) Bool(name string, def bool, usage string) *bool {
	return f.FlagSet.Bool(name, def, f.usage(name, usage))
}

// Duration defines a duration flag.
func (f *FlagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	return f.FlagSet.Duration(name, def, f.usage(name, usage))
}

// Secret defines a secret string flag --name with a companion --name-file (each with its variable). It has
// no default, its value is never printed, and after Parse the returned string holds the flag's value or
// the file's content without its trailing newline; giving both is an error.
func (f *FlagSet) Secret(name, usage string) *string {
	s := &secret{name: name}
	s.value = f.FlagSet.String(name, "", f.usage(name, usage+" (secret: never printed)"))
	s.file = f.FlagSet.String(name+"-file", "", f.usage(name+"-file", "file holding --"+name+" (e.g. a Docker or Kubernetes secret)"))
	f.secrets = append(f.secrets, s)
	return s.value
}

func (f *FlagSet) isSecret(name string) bool {
	for _, s := range f.secrets {
		if s.name == name {
			return true
		}
	}
	return false
}

// Parse parses args, then fills every flag not given on the command line from its environment variable,
// then reads secret files. A bad environment value is reported by variable name (with the value only
// when the flag is not a secret).
func (f *FlagSet) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] {
			return
		}
		v := f.env.Getenv(EnvName(fl.Name))
		if v == "" {
			return
		}
		if err := fl.Value.Set(v); err != nil {
			if f.isSecret(fl.Name) {
				errs = append(errs, fmt.Errorf("%s: invalid value", EnvName(fl.Name)))
			} else {
				errs = append(errs, fmt.Errorf("%s=%q: %w", EnvName(fl.Name), v, err))
			}
			return
		}
		given[fl.Name] = true
	})
	for _, s := range f.secrets {
		if err := s.resolve(given); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("bad environment or flags: %w", errors.Join(errs...))
	}
	return nil
}

// resolve reads the secret's file when one is named.
func (s *secret) resolve(given map[string]bool) error {
	if *s.file == "" {
		return nil
	}
	if given[s.name] && *s.value != "" {
		return fmt.Errorf("--%s and --%s-file are both set: give one", s.name, s.name)
	}
	b, err := os.ReadFile(*s.file)
	if err != nil {
		// The path is not secret; the content never reaches this message.
		return fmt.Errorf("--%s-file: %w", s.name, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return fmt.Errorf("--%s-file %s is empty", s.name, *s.file)
	}
	*s.value = v
	return nil
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
