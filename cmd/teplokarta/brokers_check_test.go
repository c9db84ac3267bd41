package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// Every command that talks to Kafka refuses a --brokers address that answers in another protocol, with
// the address and what it answered, instead of running on: kafka-go read an HTTP answer as a 1.2 GB Kafka
// response (ingest allocated gigabytes before "context deadline exceeded"; the processor logged "multiple
// Read calls return no data or error" twice a second, forever).
func TestCommandsRefuseANonKafkaBrokerAddress(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(web.Close)
	wrong := strings.TrimPrefix(web.URL, "http://")
	_, chCfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	chArgs := []string{"--clickhouse-addr", chCfg.Addr, "--clickhouse-database", chCfg.Database,
		"--redis-addr", testenv.RedisAddr(t), "--redis-prefix", prefix}
	for _, tc := range []struct {
		name string
		run  func(context.Context, *cli.Env, []string) error
		args []string
	}{
		{"process", runProcess, append([]string{"--brokers", wrong, "--metrics-addr", ""}, chArgs...)},
		{"sla serve", runSLAServe, append([]string{"--brokers", wrong, "--listen", "127.0.0.1:0", "--metrics-addr", "",
			"--tokens", filepath.Join("..", "..", "deploy", "sla-tokens.example.yaml")}, chArgs...)},
		{"simulate", runSimulate, []string{"--brokers", wrong, "--count", "10"}},
		{"ingest", runIngest, []string{"--local", "--brokers", wrong, "--listen", "127.0.0.1:0", "--metrics-addr", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
				Log: slog.New(slog.DiscardHandler), Version: "test"}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			err := tc.run(ctx, env, tc.args)
			if err == nil || !strings.Contains(err.Error(), "not a Kafka broker") || !strings.Contains(err.Error(), wrong) ||
				!strings.Contains(err.Error(), "HTTP/1.1") {
				t.Fatalf("%s --brokers %s (an HTTP server) = %v; want an error naming the address, what it answered and \"not a Kafka broker\"",
					tc.name, wrong, err)
			}
			if ctx.Err() != nil {
				t.Fatalf("gave up only when the test's deadline passed: %v", err)
			}
		})
	}
}
