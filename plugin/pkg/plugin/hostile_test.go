package plugin_test

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	corpus "github.com/teplokarta/teplokarta/internal/hostile"
)

// TestHostileCorpusPlugin replays every case of the hostile corpus against the datasource through the
// SDK's gRPC harness: as the value of every filter of a query, as a region, as the whole query JSON, as a
// cascading variable's parameter and as a resource path. No answer may be a 5xx (a bad value is a 400 or
// matches nothing) and the stored appeals are unchanged.
func TestHostileCorpusPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the whole corpus")
	}
	cases, err := corpus.Cases()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, true, nil)
	count := func() uint64 {
		var n uint64
		if err := h.conn.QueryRow(t.Context(), "SELECT count() FROM appeals").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	// The cases are independent and each waits on ClickHouse round trips, so a few run at once, as
	// Grafana's concurrent panels would send them. Workers report with Errorf: Fatalf may only be called
	// from the test's own goroutine.
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		next     = make(chan corpus.Case)
		wg       sync.WaitGroup
	)
	tally := func(code int) { mu.Lock(); statuses[code]++; mu.Unlock() }
	for range hostileWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				replayHostileCase(t, h, c, tally)
			}
		}()
	}
	for _, c := range cases {
		next <- c
	}
	close(next)
	wg.Wait()
	if after := count(); after != before {
		t.Fatalf("appeals changed: %d → %d", before, after)
	}
	t.Logf("%d cases; answers by status: %v", len(cases), statuses)
}

// hostileWorkers is how many cases are replayed at once.
const hostileWorkers = 4

// replayHostileCase sends one case through every door of the datasource; safe for concurrent use.
func replayHostileCase(t *testing.T, h *harness, c corpus.Case, tally func(int)) {
	s := c.String()
	vals := []string{s}
	queries := []q{
		{"queryType": "top", "dimension": "theme", "filters": q{"municipalities": vals, "categories": vals, "themes": vals, "sources": vals, "agencies": vals, "statuses": vals}},
		{"queryType": "appeals", "filters": q{"categories": vals}},
		{"queryType": "top", "filters": q{"regions": vals}},
	}
	if len(s) > 1<<20 {
		// JSON-escaped, such a value would pass gRPC's 16 MiB message limit, which Grafana has too;
		// values from 513 bytes to 1 MiB already prove the plugin's 400.
		queries = nil
	}
	for i, m := range queries {
		raw, _ := json.Marshal(m)
		r, err := h.query(june, july, oneDay, m["queryType"].(string), raw)
		if err != nil {
			t.Errorf("%s: query %d: transport: %v", c.Name, i, err)
			continue
		}
		tally(int(r.Status))
		if r.Status >= 500 {
			t.Errorf("%s: query %d: status %d %v", c.Name, i, r.Status, r.Error)
		}
	}
	if raw, err := h.query(june, july, oneDay, "top", c.Body); err != nil {
		t.Errorf("%s: as the query JSON: transport: %v", c.Name, err)
	} else {
		tally(int(raw.Status))
		if raw.Status >= 500 {
			t.Errorf("%s: as the query JSON: status %d %v", c.Name, raw.Status, raw.Error)
		}
	}
	paths := []string{"categories?category=" + url.QueryEscape(s), "themes?region=" + url.QueryEscape(s), url.PathEscape(s)}
	if utf8.ValidString(s) { // gRPC strings are UTF-8: Grafana cannot send anything else
		paths = append(paths, s, "municipalities?"+s)
	}
	for _, path := range paths {
		if len(path) > 1<<20 {
			continue // Grafana's HTTP server refuses a URL over 1 MiB before any plugin sees it
		}
		code, body, err := h.callResource(path)
		if err != nil {
			t.Errorf("%s: resource %.80q: transport: %v", c.Name, path, err)
			continue
		}
		tally(code)
		if code >= 500 {
			t.Errorf("%s: resource %.80q: %d %.200s", c.Name, path, code, body)
		}
	}
}

// query sends a query whose JSON is raw bytes, as a broken or hostile frontend could; safe for
// concurrent use (a transport error is returned, not fatal).
func (h *harness) query(from, to time.Time, interval time.Duration, queryType string, raw []byte) (backend.DataResponse, error) {
	// The bound only keeps a hung call from hanging the test: the plugin's answer is what is checked.
	// A 100,000-deep nesting case sent six times in one query (3.6 MB of JSON, -race) took over 30 s on a
	// machine twelve times oversubscribed.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := h.tp.Client.QueryData(ctx, &backend.QueryDataRequest{
		PluginContext: h.pctx,
		Queries: []backend.DataQuery{{
			RefID: "A", QueryType: queryType, JSON: raw, Interval: interval,
			TimeRange: backend.TimeRange{From: from, To: to}, MaxDataPoints: 1000,
		}},
	})
	if err != nil {
		return backend.DataResponse{}, err
	}
	return resp.Responses["A"], nil
}
