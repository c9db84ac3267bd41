package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/cli"
)

// TestCheckConfig: --check-config validates what a start would validate, connects to nothing, and tells
// a good configuration from a bad one for every command a deployment runs.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	open := write("open.yaml", "listen: 127.0.0.1:8080\n")
	write("vk.token", "s3cret\n")
	closed := write("closed.yaml", "sources:\n"+
		"  vk: {auth: {mode: token, secret_file: vk.token}}\n  nashdom: {auth: {mode: hmac, secret: k}}\n"+
		"  \"112\": {auth: {mode: token, secret: t}}\n  pos: {auth: {mode: token, secret: p}}\n")
	missing := write("missing.yaml", "sources:\n  vk: {auth: {mode: token, secret_file: nowhere.token}}\n")
	write("kafka.pw", "s3cret\n")
	kafkaSASL := write("kafka-sasl.yaml", "kafka:\n  tls: true\n  sasl_mechanism: SCRAM-SHA-512\n  user: tk\n  password_file: kafka.pw\n")
	kafkaNoCA := write("kafka-no-ca.yaml", "kafka:\n  ca_file: nowhere-ca.pem\n")
	kafkaPlain := write("kafka-plain.yaml", "kafka:\n  sasl_mechanism: PLAIN\n  user: tk\n  password: p\n")
	tokens := filepath.Join("..", "..", "deploy", "sla-tokens.example.yaml")
	tests := []struct {
		name string
		args []string
		ok   bool
		want string // in the output
	}{
		{"ingest local", []string{"ingest", "--config", open, "--local"}, true, ""},
		{"ingest open beyond loopback", []string{"ingest", "--config", open, "--listen", ":8080", "--local"}, false, "source vk has no auth"},
		{"ingest with auth beyond loopback", []string{"ingest", "--config", closed, "--listen", ":8080", "--pii-key", "test-key-0123456789"}, true, ""},
		{"ingest secret file missing", []string{"ingest", "--config", missing}, false, "nowhere.token"},
		{"ingest kafka SASL over TLS", []string{"ingest", "--config", kafkaSASL, "--local"}, true, ""},
		{"ingest kafka CA file missing", []string{"ingest", "--config", kafkaNoCA, "--local"}, false, "nowhere-ca.pem"},
		{"ingest kafka PLAIN without TLS", []string{"ingest", "--config", kafkaPlain, "--local"}, false, "needs TLS"},
		{"process kafka SASL", []string{"process", "--local", "--kafka-tls", "--kafka-sasl-mechanism", "SCRAM-SHA-256", "--kafka-user", "u", "--kafka-password", "p"}, true, ""},
		{"process kafka mechanism unknown", []string{"process", "--local", "--kafka-sasl-mechanism", "GSSAPI", "--kafka-user", "u", "--kafka-password", "p"}, false, "want PLAIN"},
		{"sla serve kafka user without mechanism", []string{"sla", "serve", "--tokens", tokens, "--kafka-user", "u"}, false, "without a SASL mechanism"},
		{"simulate kafka CA file missing", []string{"simulate", "--kafka-ca-file", filepath.Join(dir, "none.pem")}, false, "none.pem"},
		{"migrate", []string{"migrate"}, true, ""},
		{"migrate bad database", []string{"migrate", "--clickhouse-database", "a-b"}, false, "must be an identifier"},
		{"process", []string{"process", "--local"}, true, ""},
		{"process bad window", []string{"process", "--local", "--window-sizes", "7m"}, false, "divide a day"},
		{"process bad batch", []string{"process", "--local", "--batch-size", "20000", "--max-in-flight", "100"}, false, "max in-flight"},
		{"process partition state", []string{"process", "--local", "--dedup-state", "partition", "--enriched-partitions", "12"}, true, ""},
		{"process unknown dedup state", []string{"process", "--local", "--dedup-state", "memory"}, false, `want \"redis\", \"local\" or \"partition\"`},
		{"process partition state without partitions", []string{"process", "--local", "--dedup-state", "partition", "--enriched-partitions", "0"}, false, "at least one partition"},
		{"process sentinel", []string{"process", "--local", "--redis-addr", "s1:26379,s2:26379,s3:26379", "--redis-master", "m", "--redis-wait-replicas", "1"}, true, ""},
		{"process cluster with WAIT", []string{"process", "--local", "--redis-addr", "n1:6379,n2:6379", "--redis-wait-replicas", "1"}, false, "not supported with a Redis Cluster"},
		{"verify sentinel password alone", []string{"verify", "--redis-sentinel-password", "x"}, false, "needs a master name"},
		{"sla serve", []string{"sla", "serve", "--tokens", tokens}, true, ""},
		{"sla serve bad redis address", []string{"sla", "serve", "--tokens", tokens, "--redis-addr", "s1"}, false, "not host:port"},
		{"sla serve tokens missing", []string{"sla", "serve", "--tokens", filepath.Join(dir, "none.yaml")}, false, "none.yaml"},
		{"simulate signed", []string{"simulate", "--target", "http://ingest:8080", "--ingest-config", closed}, true, ""},
		{"simulate bad target", []string{"simulate", "--target", "ftp://x"}, false, "want kafka"},
		{"simulate bad rate", []string{"simulate", "--rate", "0"}, false, "rate must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			// Local mode: the built-in identity key is allowed, so each case fails only for what it tests.
			getenv := func(k string) string {
				if k == "TEPLOKARTA_LOCAL" {
					return "1"
				}
				return ""
			}
			env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: getenv,
				Log: slog.New(slog.NewTextHandler(&out, nil)), Version: "test"}
			code := realMain(env, append(tc.args, "--check-config"))
			if got := code == 0 && strings.Contains(out.String(), "configuration OK"); got != tc.ok {
				t.Fatalf("exit %d, want ok=%v:\n%s", code, tc.ok, out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}
