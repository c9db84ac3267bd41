package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Option is one template-variable value: the shape the frontend's metricFindQuery maps to.
type VarOption struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

// Resource paths (the frontend contract).
const (
	ResMunicipalities = "municipalities"
	ResCategories     = "categories"
	ResThemes         = "themes"
	ResAgencies       = "agencies"
	ResSources        = "sources"
	ResStatuses       = "statuses"
	ResGeoJSON        = "geojson"
)

var sourceNames = map[string]string{
	"vk": "ВКонтакте", "nashdom": "Наш дом", "112": "Система-112", "pos": "Платформа обратной связи (ПОС)",
}

// statusNames lists the statuses an appeal can have, in workflow order.
var statusNames = []VarOption{
	{"new", "Новое"}, {"assigned", "Назначено"}, {"in_work", "В работе"}, {"resolved", "Решено"}, {"returned", "Возвращено"},
}

// CallResource serves variable lists and the GeoJSON gazetteer.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	if req.Method != http.MethodGet && req.Method != "" {
		return sendJSON(sender, http.StatusMethodNotAllowed, map[string]string{"error": "only GET is supported"})
	}
	path := strings.Trim(req.Path, "/")
	q, _ := url.ParseQuery(strings.TrimPrefix(req.URL[strings.IndexByte(req.URL+"?", '?'):], "?"))
	var body any
	var err error
	switch path {
	case ResGeoJSON:
		body, err = d.geoJSON(q.Get("layer"))
	case ResMunicipalities:
		body = d.municipalityOptions(q)
	case ResStatuses, ResCategories, ResThemes, ResAgencies, ResSources:
		body, err = d.cachedOptions(ctx, path, q)
	default:
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("unknown resource %q", path)})
	}
	if err != nil {
		d.log.Warn("resource failed", "path", path, "error", err.Error())
		return sendJSON(sender, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
	return sendJSON(sender, http.StatusOK, body)
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("resource: encode: %w", err)
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    b,
	})
}

// queryFilters reads the optional ?region=&category= narrowing of a variable list (cascading variables).
func queryFilters(q url.Values) Filters {
	return Filters{Regions: q["region"], Categories: q["category"]}
}

func (d *Datasource) municipalityOptions(q url.Values) []VarOption {
	out := []VarOption{}
	for _, m := range d.municipalities(queryFilters(q)) {
		out = append(out, VarOption{Value: m.OKTMO, Text: m.DisplayName()})
	}
	return out
}

// cachedOptions reads a variable list through Redis: dashboards re-query variables on every load, and the
// distinct scans are the same for everyone. A Redis failure only costs the cache.
func (d *Datasource) cachedOptions(ctx context.Context, path string, q url.Values) ([]VarOption, error) {
	ttl := d.cfg.CacheTTL()
	key := fmt.Sprintf("teplokarta:plugin:%s:%s:%s:%s", d.cfg.Database, d.cfg.Region, path, q.Encode())
	if d.rdb != nil && ttl > 0 {
		if b, err := d.rdb.Get(ctx, key).Bytes(); err == nil {
			var out []VarOption
			if json.Unmarshal(b, &out) == nil {
				return out, nil
			}
		}
	}
	out, err := d.options(ctx, path, q)
	if err != nil {
		return nil, err
	}
	if d.rdb != nil && ttl > 0 {
		if b, err := json.Marshal(out); err == nil {
			if err := d.rdb.Set(ctx, key, b, ttl).Err(); err != nil {
				d.log.Warn("variable cache write failed", "error", err.Error())
			}
		}
	}
	return out, nil
}

// distinctSQL reads a dimension's values from the daily rollup, which is orders of magnitude smaller
// than appeals and carries every dimension but status.
var distinctSQL = map[string]string{
	ResCategories: "SELECT DISTINCT category FROM appeal_counts_1d",
	ResThemes:     "SELECT DISTINCT theme FROM appeal_counts_1d",
	ResAgencies:   "SELECT DISTINCT agency FROM appeal_counts_1d",
	ResSources:    "SELECT DISTINCT source FROM appeal_counts_1d",
	ResStatuses:   "SELECT DISTINCT status FROM appeal_sla",
}

func (d *Datasource) options(ctx context.Context, path string, q url.Values) ([]VarOption, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	f := queryFilters(q)
	var w where
	w.in("region", f.regions(d.cfg.Region))
	if path == ResThemes || path == ResAgencies {
		w.in("category", f.Categories)
	}
	col := strings.TrimPrefix(distinctSQL[path], "SELECT DISTINCT ")
	col = col[:strings.IndexByte(col, ' ')]
	w.add(col + " != ''")
	rows, err := d.ch.Query(ctx, distinctSQL[path]+w.sql()+" ORDER BY "+col, w.args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer rows.Close()
	out := []VarOption{}
	seen := map[string]bool{}
	if path == ResStatuses {
		for _, s := range statusNames {
			out = append(out, s)
			seen[s.Value] = true
		}
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if seen[v] {
			continue
		}
		text := v
		if path == ResSources && sourceNames[v] != "" {
			text = sourceNames[v]
		}
		out = append(out, VarOption{Value: v, Text: text})
	}
	return out, rows.Err()
}
