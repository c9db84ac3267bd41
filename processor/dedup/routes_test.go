package dedup

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// An id keeps the scope it was first routed by, for the id horizon; a new id takes its own; an id twice
// in one call takes the first one's.
func TestRoutes(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	r, err := NewRoutes(rdb, conn, RoutesConfig{KeyPrefix: prefix, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Ensure(ctx); err != nil { // nothing stored: only the marker
		t.Fatal(err)
	}
	steps := []struct {
		ids, scopes, want []string
	}{
		{[]string{"pos:1", "vk:2"}, []string{"RU-RYA:61701000", "RU-RYA:61701000"}, []string{"RU-RYA:61701000", "RU-RYA:61701000"}},
		{[]string{"pos:1", "pos:3", "pos:3"}, []string{"RU-RYA:61705000", "RU-RYA:61705000", "RU-RYA:61650000"},
			[]string{"RU-RYA:61701000", "RU-RYA:61705000", "RU-RYA:61705000"}},
		{nil, nil, []string{}},
	}
	for i, s := range steps {
		got, err := r.Route(ctx, s.ids, s.scopes)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("step %d: routes %v, want %v", i+1, got, s.want)
		}
	}
	ttl, err := rdb.PTTL(ctx, prefix+"rekey:route:pos:1").Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("a route lasts %v (%v), want the id horizon", ttl, err)
	}
	if _, err := r.Route(ctx, []string{"a"}, nil); err == nil {
		t.Error("ids without scopes: no error")
	}
}

// Redis lost the routes (or the database held appeals before the first stage claimed any): a claim
// finds no marker and fails; Ensure writes every stored appeal's scope from ClickHouse, the first stored
// where an id has several, and the claim made again gives a stored appeal's copy the stored scope, even
// where the failed claim (or another) had taken it on the emptied Redis.
func TestRoutesRebuiltFromClickHouse(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	batch := mixedBatch()
	storeAppeals(t, conn, batch, decide(t, ctx, newLocalDeduper(t), batch...))
	r, err := NewRoutes(rdb, conn, RoutesConfig{KeyPrefix: prefix, TTL: 30 * 24 * time.Hour, Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT appeal_id, region, oktmo FROM appeals ORDER BY processed_time DESC")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, region, oktmo string
		if err := rows.Scan(&id, &region, &oktmo); err != nil {
			t.Fatal(err)
		}
		stored[id] = model.Scope(region, oktmo)
	}
	rows.Close()
	if len(stored) < 10 {
		t.Fatalf("%d stored appeals: too few", len(stored))
	}
	var ids, elsewhere []string
	for id := range stored {
		ids, elsewhere = append(ids, id), append(elsewhere, "RU-RYA:61705000")
	}
	// One id claimed elsewhere on the emptied Redis before the first claim noticed the loss.
	if err := rdb.Set(ctx, prefix+"rekey:route:"+ids[0], "RU-RYA:61705000", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	ids, elsewhere = append(ids, "vk:new"), append(elsewhere, "RU-RYA:61701000")
	if _, err := r.Route(ctx, ids, elsewhere); !errors.Is(err, ErrRoutesLost) {
		t.Fatalf("a claim without the marker: %v, want ErrRoutesLost", err)
	}
	if err := r.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := r.Route(ctx, ids, elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	ids = ids[:len(ids)-1]
	for i, id := range ids {
		if got[i] != stored[id] {
			t.Errorf("%s routed to %s, want its stored scope %s", id, got[i], stored[id])
		}
	}
	if got[len(ids)] != "RU-RYA:61701000" {
		t.Errorf("a new id routed to %s, want its own scope", got[len(ids)])
	}
	if n, err := rdb.Exists(ctx, prefix+"rekey:routes").Result(); err != nil || n != 1 {
		t.Errorf("no marker after the rebuild (%d, %v)", n, err)
	}
}
