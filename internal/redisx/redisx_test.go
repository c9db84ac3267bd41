package redisx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/redisx"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func TestConfigModesAndValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adjust func(*redisx.Config)
		mode   redisx.Mode
		client string // the go-redis client NewUniversalClient builds
		ok     bool
	}{
		{"default", func(*redisx.Config) {}, redisx.Single, "*redis.Client", true},
		{"sentinel", func(c *redisx.Config) {
			c.Addrs, c.MasterName, c.SentinelPassword = []string{"s1:26379", "s2:26379", "s3:26379"}, "mymaster", "x"
		}, redisx.Sentinel, "*redis.Client", true},
		{"one sentinel", func(c *redisx.Config) { c.Addrs, c.MasterName = []string{"s1:26379"}, "mymaster" }, redisx.Sentinel, "*redis.Client", true},
		{"cluster", func(c *redisx.Config) { c.Addrs = []string{"n1:6379", "n2:6379"} }, redisx.Cluster, "*redis.ClusterClient", true},
		{"sentinel with WAIT", func(c *redisx.Config) {
			c.Addrs, c.MasterName, c.Durability.Replicas = []string{"s1:26379"}, "m", 1
		}, redisx.Sentinel, "*redis.Client", true},
		{"no address", func(c *redisx.Config) { c.Addrs = nil }, redisx.Single, "", false},
		{"no port", func(c *redisx.Config) { c.Addrs = []string{"localhost"} }, redisx.Single, "", false},
		{"bad port", func(c *redisx.Config) { c.Addrs = []string{"n1:6379", "n2:0"} }, redisx.Cluster, "", false},
		{"twice", func(c *redisx.Config) { c.Addrs = []string{"n1:6379", "n1:6379"} }, redisx.Cluster, "", false},
		{"sentinel password without sentinels", func(c *redisx.Config) { c.SentinelPassword = "x" }, redisx.Single, "", false},
		{"master name with a space", func(c *redisx.Config) { c.MasterName = "my master" }, redisx.Sentinel, "", false},
		{"WAIT on a cluster", func(c *redisx.Config) {
			c.Addrs, c.Durability.Replicas = []string{"n1:6379", "n2:6379"}, 1
		}, redisx.Cluster, "", false},
		{"negative replicas", func(c *redisx.Config) { c.Durability.Replicas = -1 }, redisx.Single, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := redisx.DefaultConfig()
			tc.adjust(&c)
			if c.Mode() != tc.mode {
				t.Errorf("mode %s, want %s", c.Mode(), tc.mode)
			}
			rdb, err := redisx.New(c)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if rdb == nil {
				return
			}
			defer rdb.Close()
			if got := typeName(rdb); got != tc.client {
				t.Errorf("client %s, want %s", got, tc.client)
			}
		})
	}
	// Under Sentinel the master is always watched; elsewhere only when asked (or implied by WAIT).
	c := redisx.DefaultConfig()
	if c.EffectiveDurability().Enabled() {
		t.Error("a single server's default durability does I/O")
	}
	c.Addrs, c.MasterName = []string{"s:26379"}, "m"
	if !c.EffectiveDurability().WatchMaster {
		t.Error("Sentinel without the master watched")
	}
}

func typeName(c redis.UniversalClient) string {
	switch c.(type) {
	case *redis.Client:
		return "*redis.Client"
	case *redis.ClusterClient:
		return "*redis.ClusterClient"
	}
	return "other"
}

// TestGuardOnAServerWithoutReplicas: WAIT for a replica that does not exist fails the unit of work, and
// the master watch alone passes on a server that stays up.
func TestGuardOnAServerWithoutReplicas(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		d  redisx.Durability
		ok bool
	}{
		{redisx.Durability{}, true},
		{redisx.Durability{WatchMaster: true}, true},
		{redisx.Durability{Replicas: 1, Timeout: 50 * time.Millisecond}, false},
	} {
		g := redisx.NewGuard(rdb, prefix+"durable", tc.d)
		began, err := g.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(ctx, prefix+"k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		err = g.Confirm(ctx, began)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, redisx.ErrNotDurable) {
			t.Errorf("%+v: err %v, want ok=%v", tc.d, err, tc.ok)
		}
	}
}
