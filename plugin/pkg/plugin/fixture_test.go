package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
)

// Fixed clock of the seeded world: mid-June 2025.
var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

const (
	ryazan   = "61701000"
	kasimov  = "61705000"
	shilovo  = "61658000"
	gzhi     = "ГЖИ Рязанской области"
	mintrans = "Минтранс Рязанской области"
)

// msk is the region's calendar (Ryazan, UTC+3): the known world's days are Moscow days, as the rollups'
// (0012) and the datasource's default time zone count them.
var msk = time.FixedZone("MSK", 3*3600)

func day(m time.Month, d, h, min int) time.Time { return time.Date(2025, m, d, h, min, 0, 0, msk) }

// appeal is one seeded row; the zero values of the rest of the columns are fine for the plugin.
type appeal struct {
	id, region, oktmo, category, theme, agency, source, text string
	at                                                       time.Time
	voiceOf                                                  string // "" = an incident
}

type slaRow struct {
	id, oktmo, category, source, agency, status string
	received, deadline, resolved                time.Time
	version                                     uint64
}

func rya(id, oktmo, cat, theme, agency, source string, at time.Time) appeal {
	return appeal{id: id, region: "RU-RYA", oktmo: oktmo, category: cat, theme: theme, agency: agency, source: source, at: at}
}

func voice(a appeal, of string) appeal { a.voiceOf = of; return a }

// seedAppeals is the known world every query test asserts against (see docs/grafana-plugin.md, tests).
//
//	Рязань, June 2025: 9 incidents + 3 voices; 60 baseline incidents (March 3 … May 30, every 36 h,
//	  20 per month); June 2024: 4 incidents; February 2024: 1 (outside every compared period).
//	Касимов, June: 2 incidents (Дороги), no history.   Шиловский, June: 3 (ЖКХ); April: 9.
//	Unresolved place (empty OKTMO), June: 1.           Moscow (RU-MOW), June: 5, another category.
func seedAppeals() []appeal {
	const zkh, roads = "ЖКХ", "Дороги"
	const heat, trash, pits = "Отопление", "Вывоз мусора", "Ямы"
	a := []appeal{
		rya("r1", ryazan, zkh, heat, gzhi, "vk", day(6, 2, 10, 0)),
		rya("r2", ryazan, zkh, heat, gzhi, "112", day(6, 3, 0, 0)),
		voice(rya("r2v", ryazan, zkh, heat, gzhi, "vk", day(6, 3, 1, 0)), "r2"),
		rya("r3", ryazan, zkh, trash, gzhi, "pos", day(6, 10, 8, 0)),
		rya("r4", ryazan, roads, pits, mintrans, "vk", day(6, 14, 9, 0)),
		voice(rya("r4v", ryazan, roads, pits, mintrans, "nashdom", day(6, 14, 9, 30)), "r4"),
		voice(rya("r4w", ryazan, roads, pits, mintrans, "vk", day(6, 14, 11, 0)), "r4"),
		rya("r5", ryazan, roads, pits, mintrans, "pos", day(6, 5, 0, 0)),
		rya("r6", ryazan, zkh, heat, gzhi, "vk", day(6, 20, 10, 0)),
		rya("r7", ryazan, zkh, heat, gzhi, "vk", day(6, 20, 11, 0)),
		rya("r8", ryazan, roads, pits, mintrans, "vk", day(6, 25, 0, 0)),
		rya("r9", ryazan, zkh, trash, gzhi, "nashdom", day(6, 28, 0, 0)),
		rya("k1", kasimov, roads, pits, mintrans, "vk", day(6, 8, 0, 0)),
		rya("k2", kasimov, roads, pits, mintrans, "vk", day(6, 9, 0, 0)),
		rya("s1", shilovo, zkh, heat, gzhi, "112", day(6, 11, 0, 0)),
		rya("s2", shilovo, zkh, heat, gzhi, "112", day(6, 12, 0, 0)),
		rya("s3", shilovo, zkh, heat, gzhi, "112", day(6, 13, 0, 0)),
		rya("u1", "", zkh, heat, gzhi, "vk", day(6, 15, 10, 0)),
	}
	a[0].text = "Нет отопления на улице Есенина, звоните +7 (912) 345-67-89 или пишите ivan.petrov@mail.ru, Иванов Иван Петрович"
	for i := range 60 {
		a = append(a, rya(fmt.Sprintf("b%02d", i), ryazan, zkh, heat, gzhi, "vk", day(3, 3, 0, 0).Add(time.Duration(i)*36*time.Hour)))
	}
	for i := range 9 {
		a = append(a, rya(fmt.Sprintf("sb%d", i), shilovo, zkh, heat, gzhi, "112", day(4, 10+i, 0, 0)))
	}
	for i := range 4 {
		a = append(a, rya(fmt.Sprintf("y%d", i), ryazan, zkh, heat, gzhi, "vk", time.Date(2024, 6, 10+i, 0, 0, 0, 0, msk)))
	}
	a = append(a, rya("y-feb", ryazan, zkh, heat, gzhi, "vk", time.Date(2024, 2, 10, 0, 0, 0, 0, msk)))
	for i := range 5 {
		m := rya(fmt.Sprintf("m%d", i), "45000000", "Транспорт", "Метро", "Дептранс", "vk", day(6, 10+i, 0, 0))
		m.region = "RU-MOW"
		a = append(a, m)
	}
	return a
}

// seedSLA: r3 has two versions (FINAL must see in_work); r6…r9 and the rest have no row ("new").
func seedSLA() []slaRow {
	z := time.Unix(0, 0).UTC()
	return []slaRow{
		{"r1", ryazan, "ЖКХ", "vk", gzhi, "resolved", day(6, 2, 10, 0), day(6, 5, 10, 0), day(6, 3, 10, 0), 3},
		{"r2", ryazan, "ЖКХ", "112", gzhi, "resolved", day(6, 3, 0, 0), day(6, 4, 0, 0), day(6, 5, 0, 0), 3},
		{"r3", ryazan, "ЖКХ", "pos", gzhi, "assigned", day(6, 10, 8, 0), day(6, 12, 8, 0), z, 1},
		{"r3", ryazan, "ЖКХ", "pos", gzhi, "in_work", day(6, 10, 8, 0), day(6, 12, 8, 0), z, 2},
		{"r4", ryazan, "Дороги", "vk", mintrans, "assigned", day(6, 14, 9, 0), day(6, 20, 0, 0), z, 1},
		{"r5", ryazan, "Дороги", "pos", mintrans, "resolved", day(6, 5, 0, 0), day(6, 10, 0, 0), day(6, 6, 12, 0), 2},
	}
}

func insertAppeals(t testing.TB, conn driver.Conn, rows []appeal) {
	t.Helper()
	ctx := context.Background()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, municipality, category, theme, agency, text, event_time, received_time, processed_time, status, incident_id, is_incident, version)")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rows {
		inc, incID := uint8(1), a.id
		if a.voiceOf != "" {
			inc, incID = 0, a.voiceOf
		}
		if err := b.Append(a.id, a.source, a.id, a.region, a.oktmo, "", a.category, a.theme, a.agency, a.text, a.at, a.at, a.at, "new", incID, inc, uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

func insertSLA(t testing.TB, conn driver.Conn, rows []slaRow) {
	t.Helper()
	ctx := context.Background()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO appeal_sla (appeal_id, region, oktmo, category, source, agency, status, received_time, deadline, resolved_time, breached, updated_time, version)")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rows {
		if err := b.Append(s.id, "RU-RYA", s.oktmo, s.category, s.source, s.agency, s.status, s.received, s.deadline, s.resolved, uint8(0), s.received, s.version); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

// The SDK registers global metrics when it serves, so one process can run one plugin server: every test
// shares it and gets its own datasource instance (its own UID, settings and options).
var (
	serverOnce   sync.Once
	serverPlugin datasourcetest.TestPlugin
	serverAddr   string
	serverErr    error
	instanceOpts sync.Map // uid → []plugin.Option
)

func sharedServer(t testing.TB) (datasourcetest.TestPlugin, string) {
	t.Helper()
	serverOnce.Do(func() {
		serverAddr = freeAddr(t)
		serverPlugin, serverErr = datasourcetest.Manage(func(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
			opts, _ := instanceOpts.Load(s.UID)
			o, _ := opts.([]plugin.Option)
			return plugin.New(ctx, s, o...)
		}, datasourcetest.ManageOpts{Address: serverAddr})
	})
	if serverErr != nil {
		t.Fatalf("plugin server: %v", serverErr)
	}
	return serverPlugin, serverAddr
}

// harness is the plugin served over real gRPC by the SDK's test server, talking to a real ClickHouse.
type harness struct {
	t       testing.TB
	addr    string
	tp      datasourcetest.TestPlugin
	conn    driver.Conn
	ch      chstore.Config
	pctx    backend.PluginContext
	jsonMap map[string]any
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// newHarness starts the plugin against a fresh migrated database; seeded reports whether to load the
// known world. extra overrides jsonData keys.
func newHarness(t testing.TB, seeded bool, extra map[string]any, opts ...plugin.Option) *harness {
	t.Helper()
	conn, cfg := testenv.ClickHouse(t)
	if seeded {
		insertAppeals(t, conn, seedAppeals())
		insertSLA(t, conn, seedSLA())
	}
	return startPlugin(t, conn, cfg, extra, opts...)
}

func startPlugin(t testing.TB, conn driver.Conn, cfg chstore.Config, extra map[string]any, opts ...plugin.Option) *harness {
	t.Helper()
	host, port, _ := net.SplitHostPort(cfg.Addr)
	var p int
	fmt.Sscan(port, &p)
	jd := map[string]any{"host": host, "port": p, "database": cfg.Database, "redisAddr": testenv.RedisAddr(t)}
	for k, v := range extra {
		jd[k] = v
	}
	raw, _ := json.Marshal(jd)
	if len(opts) == 0 {
		opts = []plugin.Option{plugin.WithClock(func() time.Time { return testNow })}
	}
	uid := "ds-" + strings.ToLower(cfg.Database)
	instanceOpts.Store(uid, opts)
	tp, addr := sharedServer(t)
	h := &harness{t: t, addr: addr, tp: tp, conn: conn, ch: cfg, jsonMap: jd}
	h.pctx = backend.PluginContext{
		OrgID:    1,
		PluginID: plugin.ID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			UID: uid, Name: "teplokarta", JSONData: raw, Updated: time.Unix(1, 0),
			DecryptedSecureJSONData: map[string]string{},
		},
	}
	return h
}

// q is a query model as a panel would send it.
type q map[string]any

// run sends one query and returns its frames or fails on an error response.
func (h *harness) run(from, to time.Time, interval time.Duration, model q) data.Frames {
	h.t.Helper()
	r := h.runResp(from, to, interval, model, nil)
	if r.Error != nil {
		h.t.Fatalf("query %v: %v", model, r.Error)
	}
	return r.Frames
}

func (h *harness) runResp(from, to time.Time, interval time.Duration, model q, headers map[string]string) backend.DataResponse {
	h.t.Helper()
	raw, _ := json.Marshal(model)
	qt, _ := model["queryType"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := h.tp.Client.QueryData(ctx, &backend.QueryDataRequest{
		PluginContext: h.pctx,
		Headers:       headers,
		Queries: []backend.DataQuery{{
			RefID: "A", QueryType: qt, JSON: raw, Interval: interval,
			TimeRange: backend.TimeRange{From: from, To: to}, MaxDataPoints: 1000,
		}},
	})
	if err != nil {
		h.t.Fatalf("QueryData transport: %v", err)
	}
	return resp.Responses["A"]
}

// rows flattens a frame into rows of plain values (nullable values as nil or their value) so a whole
// table can be compared at once.
func rows(f *data.Frame) [][]any {
	n, _ := f.RowLen()
	out := make([][]any, n)
	for i := range n {
		for _, fld := range f.Fields {
			v := fld.At(i)
			switch p := v.(type) {
			case *float64:
				if p == nil {
					v = nil
				} else {
					v = *p
				}
			case *int64:
				if p == nil {
					v = nil
				} else {
					v = *p
				}
			case *time.Time:
				if p == nil {
					v = nil
				} else {
					v = p.UTC()
				}
			case time.Time:
				v = p.UTC()
			}
			out[i] = append(out[i], v)
		}
	}
	return out
}

func fieldNames(f *data.Frame) []string {
	var n []string
	for _, fld := range f.Fields {
		n = append(n, fld.Name)
	}
	return n
}

// sameRows compares tables value by value; floats to 1e-9 (the plugin and the test compute the same
// formula, possibly in another order).
func sameRows(t testing.TB, what string, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d\n got: %v\nwant: %v", what, len(got), len(want), got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s row %d: %v, want %v", what, i, got[i], want[i])
		}
		for j := range want[i] {
			g, w := got[i][j], want[i][j]
			if gt, ok := g.(time.Time); ok { // instants compare in UTC, whichever zone the expectation was written in
				g = gt.UTC()
			}
			if wt, ok := w.(time.Time); ok {
				w = wt.UTC()
			}
			if gf, ok := g.(float64); ok {
				if wf, ok := w.(float64); ok && (gf-wf < 1e-9 && wf-gf < 1e-9) {
					continue
				}
			}
			if fmt.Sprint(g) != fmt.Sprint(w) || fmt.Sprintf("%T", g) != fmt.Sprintf("%T", w) {
				t.Errorf("%s row %d col %d: got %v (%T), want %v (%T)", what, i, j, g, g, w, w)
			}
		}
	}
}

func fmtAny(v any) string { return fmt.Sprint(v) }
