package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// TestCommandsOverSASLSSL runs the commands that talk to Kafka against a broker that takes only TLS
// connections authenticated with SCRAM-SHA-512, as a managed Kafka service does, each configured the way
// a deployment configures it: `simulate` and `process` by flags (the password from a file), `sla serve` by
// environment variables, `ingest` by its YAML file (password_file, ca_file relative to it). The processor
// stores exactly the simulated stream's appeals, the SLA engine gives its incidents their SLA rows, and
// ingest's record reaches the raw topic. Without the settings each command fails instead of hanging.
func TestCommandsOverSASLSSL(t *testing.T) {
	b := testenv.NewSecureBroker(t, true)
	conn, chCfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	dir := t.TempDir()
	passFile := filepath.Join(dir, "kafka-password")
	if err := os.WriteFile(passFile, []byte(b.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kafkaArgs := []string{"--brokers", b.Addr(), "--kafka-ca-file", b.CAFile, "--kafka-sasl-mechanism", b.Mechanism,
		"--kafka-user", b.User, "--kafka-password-file", passFile}
	chArgs := []string{"--clickhouse-addr", chCfg.Addr, "--clickhouse-database", chCfg.Database,
		"--redis-addr", testenv.RedisAddr(t), "--redis-prefix", prefix}
	newEnv := func(vars map[string]string) *cli.Env {
		return &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
			Getenv: func(k string) string { return vars[k] }, Log: slog.New(slog.DiscardHandler), Version: "test"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Without TLS and SASL every command refuses the broker at once, naming TLS.
	for name, run := range map[string]func() error{
		"simulate": func() error {
			return runSimulate(ctx, newEnv(nil), []string{"--brokers", b.Addr(), "--count", "10", "--live=false"})
		},
		"process": func() error {
			return runProcess(ctx, newEnv(nil), append([]string{"--brokers", b.Addr(), "--metrics-addr", "", "--local"}, chArgs...))
		},
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "TLS") {
			t.Errorf("%s without --kafka-tls against a TLS broker: %v, want an error naming TLS", name, err)
		}
	}
	// With TLS and without SASL, at once too, naming SASL.
	err := runProcess(ctx, newEnv(nil), append([]string{"--brokers", b.Addr(), "--kafka-ca-file", b.CAFile, "--metrics-addr", "", "--local"}, chArgs...))
	if err == nil || !strings.Contains(err.Error(), "--kafka-sasl-mechanism") {
		t.Errorf("process with TLS and without SASL against a SASL broker: %v, want an error naming --kafka-sasl-mechanism", err)
	}

	// The simulated stream, produced by the simulate command, and its truth.
	truthPath := filepath.Join(dir, "truth.json")
	if err := runSimulate(ctx, newEnv(nil), append([]string{"--count", "600", "--seed", "11", "--live=false", "--truth", truthPath},
		kafkaArgs...)); err != nil {
		t.Fatalf("simulate over SASL_SSL: %v", err)
	}
	var truth struct {
		Totals struct {
			Appeals int `json:"appeals"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(mustRead(t, truthPath), &truth); err != nil {
		t.Fatal(err)
	}
	if truth.Totals.Appeals == 0 {
		t.Fatalf("truth: %s", mustRead(t, truthPath))
	}

	// The processor and the SLA engine, until every appeal is stored and every incident has its SLA row.
	pctx, pstop := context.WithCancel(ctx)
	defer pstop()
	done := make(chan error, 2)
	go func() {
		done <- runProcess(pctx, newEnv(nil), append(append([]string{"--metrics-addr", "", "--local", "--group", "sasl"}, kafkaArgs...), chArgs...))
	}()
	slaEnv := newEnv(map[string]string{"TEPLOKARTA_BROKERS": b.Addr(), "TEPLOKARTA_KAFKA_CA_FILE": b.CAFile,
		"TEPLOKARTA_KAFKA_SASL_MECHANISM": b.Mechanism, "TEPLOKARTA_KAFKA_USER": b.User, "TEPLOKARTA_KAFKA_PASSWORD": b.Password})
	go func() {
		done <- runSLAServe(pctx, slaEnv, append([]string{"--listen", "127.0.0.1:0", "--metrics-addr", "",
			"--tokens", filepath.Join("..", "..", "deploy", "sla-tokens.example.yaml")}, chArgs...))
	}()
	var stored, incidents, sla uint64
	for {
		_ = conn.QueryRow(ctx, "SELECT count(), countIf(is_incident = 1) FROM appeals").Scan(&stored, &incidents)
		_ = conn.QueryRow(ctx, "SELECT count() FROM (SELECT appeal_id FROM appeal_sla GROUP BY appeal_id)").Scan(&sla)
		if stored == uint64(truth.Totals.Appeals) && sla == incidents && incidents > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("a command ended early: %v", err)
		case <-ctx.Done():
			t.Fatalf("over SASL_SSL: %d of %d appeals stored, %d of %d incidents with an SLA row", stored, truth.Totals.Appeals, sla, incidents)
		case <-time.After(200 * time.Millisecond):
		}
	}
	pstop()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("a command stopped with %v", err)
		}
	}

	// ingest, configured by its YAML file, takes one appeal and writes it to the raw topic.
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), mustRead(t, b.CAFile), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "kafka:\n  brokers: [" + b.Addr() + "]\n  ca_file: ca.pem\n  sasl_mechanism: " + b.Mechanism +
		"\n  user: " + b.User + "\n  password_file: kafka-password\n"
	cfgPath := filepath.Join(dir, "ingest.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	before := rawRecords(t, b)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	ictx, istop := context.WithCancel(ctx)
	defer istop()
	go func() {
		done <- runIngest(ictx, newEnv(nil), []string{"--config", cfgPath, "--local", "--listen", listen, "--metrics-addr", ""})
	}()
	body := `{"id": 424242, "created_at": "2026-11-20T09:15:00+03:00", "text": "В Шилово на улице Советской нет воды"}`
	for {
		resp, err := http.Post("http://"+listen+"/v1/ingest/"+model.SourceNashDom, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("ingest answered %s", resp.Status)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("ingest ended: %v", err)
		case <-ctx.Done():
			t.Fatal("ingest never listened")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if after := rawRecords(t, b); after != before+1 {
		t.Fatalf("raw records %d → %d, want one more", before, after)
	}
	istop()
	if err := <-done; err != nil {
		t.Errorf("ingest stopped with %v", err)
	}
}

// rawRecords counts the records of the «Наш дом» raw topic, read over SASL_SSL.
func rawRecords(t *testing.T, b *testenv.SecureBroker) int64 {
	return ingesttest.CountSecure(t, b.Addr(), b.Security, model.RawTopic(model.SourceNashDom))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBrokerCommandServesSASLOverTLS: `teplokarta broker` with a certificate and a SASL user takes only
// clients that bring both.
func TestBrokerCommandServesSASLOverTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := testenv.TLSFiles(t, dir)
	passFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(passFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runBroker(bctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
			Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler), Version: "test"},
			[]string{"--port", fmt.Sprint(port), "--data-dir", filepath.Join(dir, "data"), "--metrics-addr", "",
				"--tls-cert-file", cert, "--tls-key-file", key, "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-user", "tk",
				"--sasl-password-file", passFile})
	}()
	addrs := []string{net.JoinHostPort("127.0.0.1", fmt.Sprint(port))}
	good, err := kafkax.SecurityConfig{CAFile: ca, Mechanism: "SCRAM-SHA-256", User: "tk", Password: "s3cret"}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := kafkax.WaitReady(ctx, addrs, good); err != nil {
		t.Fatal(err)
	}
	if _, err := kafkax.Partitions(ctx, addrs, good, model.TopicDLQ); err != nil {
		t.Fatalf("with TLS and SASL: %v", err)
	}
	bad, _ := kafkax.SecurityConfig{CAFile: ca, Mechanism: "SCRAM-SHA-256", User: "tk", Password: "wrong"}.Build()
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	if _, err := kafkax.Partitions(sctx, addrs, bad, model.TopicDLQ); err == nil {
		t.Fatal("a wrong password read the metadata")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
