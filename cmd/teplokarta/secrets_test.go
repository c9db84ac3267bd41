package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// runMain runs the binary's main with the given environment and returns exit code and all output.
func runMain(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: func(k string) string { return vars[k] },
		Log: slog.New(slog.NewTextHandler(&out, nil)), Version: "test"}
	code := realMain(env, args)
	return code, out.String()
}

// TestNoSecretPrinted: every secret a command takes from the environment stays off the terminal when the
// command prints its help, rejects a mistyped flag, or fails its configuration check.
func TestNoSecretPrinted(t *testing.T) {
	const value = "Sup3r-s3cret-value"
	vars := map[string]string{
		"TEPLOKARTA_REDIS_PASSWORD":      value + "-redis",
		"TEPLOKARTA_CLICKHOUSE_PASSWORD": value + "-ch",
		"TEPLOKARTA_PII_KEY":             value + "-pii",
	}
	for _, args := range [][]string{
		{"process", "--help"}, {"process", "--no-such-flag"}, {"process", "--redis-adr", "x"},
		{"ingest", "--help"}, {"ingest", "--bogus"}, {"ingest", "backfill", "--help"},
		{"run", "--help"}, {"run", "-x"}, {"migrate", "--help"}, {"sla", "serve", "--help"}, {"sla", "serve", "--nope"},
		{"sla", "report", "--help"},
		{"process", "--check-config", "--window-sizes", "7m"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, out := runMain(t, vars, args...)
			if strings.Contains(out, value) {
				t.Errorf("output shows a secret from the environment:\n%s", out)
			}
			if strings.Contains(strings.Join(args, " "), "help") && !strings.Contains(out, "$TEPLOKARTA_") {
				t.Errorf("help does not name the variables:\n%s", out)
			}
		})
	}
}

// TestIdentityKeyRequiredOutsideLocalMode: process and ingest refuse to start without a key or with the
// built-in one unless in local mode; a key file (a Docker secret) is accepted.
func TestIdentityKeyRequiredOutsideLocalMode(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "pii.key")
	if err := os.WriteFile(keyFile, []byte("a-deployment-key-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ingest.yaml")
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:8080\npii_key_file: pii.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	local := map[string]string{"TEPLOKARTA_LOCAL": "true"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		ok   bool
		want string
	}{
		{"process without key", nil, []string{"process"}, false, "no identity key"},
		{"process with the built-in key", map[string]string{"TEPLOKARTA_PII_KEY": pii.LocalKey}, []string{"process"}, false, "built-in local identity key"},
		{"process with a short key", nil, []string{"process", "--pii-key", "short"}, false, "shorter than 16"},
		{"process key file", nil, []string{"process", "--pii-key-file", keyFile}, true, ""},
		{"process key file from env", map[string]string{"TEPLOKARTA_PII_KEY_FILE": keyFile}, []string{"process"}, true, ""},
		{"process local", nil, []string{"process", "--local"}, true, ""},
		{"process local from env", local, []string{"process"}, true, ""},
		{"ingest without key", nil, []string{"ingest"}, false, "no identity key"},
		{"ingest with the built-in key", nil, []string{"ingest", "--pii-key", pii.LocalKey}, false, "built-in local identity key"},
		{"ingest key file in its config", nil, []string{"ingest", "--config", cfg}, true, ""},
		{"ingest local", nil, []string{"ingest", "--local"}, true, ""},
		{"ingest backfill without key", nil, []string{"ingest", "backfill", "--source", "nashdom", "--file", keyFile}, false, "no identity key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runMain(t, tc.vars, append(tc.args, "--check-config")...)
			if strings.Contains(tc.name, "backfill") { // backfill has no --check-config: it must fail before connecting
				code, out = runMain(t, tc.vars, tc.args...)
			}
			if got := code == 0; got != tc.ok {
				t.Fatalf("exit %d, want ok=%v:\n%s", code, tc.ok, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}
