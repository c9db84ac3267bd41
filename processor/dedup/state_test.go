package dedup

import (
	"context"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

func TestEnsureStateRebuildsOnlyWhenTheMarkerIsMissing(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	d, err := New(rdb, Config{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	rebuilt, _, err := d.EnsureState(ctx, conn, now)
	if err != nil || !rebuilt {
		t.Fatalf("first start: rebuilt=%v err=%v, want a rebuild", rebuilt, err)
	}
	rebuilt, _, err = d.EnsureState(ctx, conn, now)
	if err != nil || rebuilt {
		t.Fatalf("second start: rebuilt=%v err=%v, want none", rebuilt, err)
	}
	if err := rdb.Del(ctx, prefix+"dedup:state").Err(); err != nil { // Redis lost its data
		t.Fatal(err)
	}
	rebuilt, _, err = d.EnsureState(ctx, conn, now)
	if err != nil || !rebuilt {
		t.Fatalf("after the wipe: rebuilt=%v err=%v, want a rebuild", rebuilt, err)
	}
}
