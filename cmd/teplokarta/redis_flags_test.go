package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// TestRedisTLSFlag: --redis-tls reaches the client: against the plain-text test Redis the TLS handshake
// fails, while the same flags without it connect.
func TestRedisTLSFlag(t *testing.T) {
	addr := testenv.RedisAddr(t)
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--redis-addr", addr}, true},
		{[]string{"--redis-addr", addr, "--redis-tls"}, false},
	} {
		fs := cli.NewFlagSet(env, "test", "")
		rf := addRedisFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		c, err := rf.open(context.Background())
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", strings.Join(tc.args, " "), err, tc.ok)
		}
		if c != nil {
			c.Close()
		}
	}
}
