package broker

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// A client that connects the moment the broker listens finds every configured topic: the first metadata
// answer the broker gives already lists them, with or without a data directory.
func TestTopicsExistBeforeTheFirstAnswer(t *testing.T) {
	for round := range 6 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		addr := "127.0.0.1:" + strconv.Itoa(port)
		first := make(chan []string, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		go func() { // asks as soon as anything answers on the port
			for ctx.Err() == nil {
				conn, err := kafka.DialContext(ctx, "tcp", addr)
				if err != nil {
					continue
				}
				parts, err := conn.ReadPartitions()
				conn.Close()
				if err != nil {
					continue
				}
				var topics []string
				for _, p := range parts {
					if !slices.Contains(topics, p.Topic) {
						topics = append(topics, p.Topic)
					}
				}
				first <- topics
				return
			}
		}()
		cfg := DefaultConfig()
		cfg.Port = port
		if round%2 == 1 {
			cfg.DataDir = t.TempDir() // persisting each topic widens the window the seeding closes
		}
		b, err := Start(cfg, nil)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var got []string
		select {
		case got = <-first:
		case <-ctx.Done():
		}
		cancel()
		b.Close()
		for _, want := range cfg.Topics {
			if !slices.Contains(got, want) {
				t.Fatalf("round %d: the broker's first metadata answer lists %v, without %s", round, got, want)
			}
		}
	}
}
