package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/teplokarta/teplokarta/internal/choropleth"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
)

// mapMetric is what a map can be coloured by: a field of the plugin's heatmap frame.
type mapMetric struct {
	field, legend, title string
	floor                float64 // the scale's top is at least this
}

var mapMetrics = map[string]mapMetric{
	"heat":      {"heat", "индекс тепла (1 = как обычно)", "Индекс тепла обращений", 2},
	"appeals":   {"voices", "обращений", "Обращения граждан", 0},
	"incidents": {"incidents", "инцидентов", "Инциденты (обращения без повторов)", 0},
	"per10k":    {"per_10k", "инцидентов на 10 тыс. жителей", "Инциденты на 10 тыс. жителей", 0},
}

func runMap(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "map", "Draw the heat map of the region's municipalities without Grafana, from ClickHouse: the same figures\n"+
		"as the Grafana plugin's heatmap query (its code runs here), coloured blue (few) to red (many), with a\n"+
		"legend, names, the appeals of unknown place and «© OpenStreetMap contributors». SVG or PNG by --out.")
	ch := addClickHouseFlags(fs)
	since := fs.Duration("since", 24*time.Hour, "the map covers this long up to now")
	metric := fs.String("metric", "heat", "colour by: heat (against the municipality's own baseline), appeals, incidents or per10k")
	out := fs.String("out", "heat.svg", "output file: *.svg or *.png")
	region := fs.String("region", "RU-RYA", "region (ISO 3166-2) whose municipalities are drawn")
	baselineDays := fs.Int("baseline-days", plugin.DefaultBaselineDays, "heat: days before the range the baseline rate is taken from")
	boundaries := fs.String("boundaries", "", "GeoJSON FeatureCollection of the municipalities (id = OKTMO); empty: the embedded Ryazan oblast (OSM, ODbL)")
	attribution := fs.String("attribution", geo.BoundariesAttribution, "credit the boundary data's licence requires on the map")
	tz := fs.String("timezone", "", "the region's calendar: the days a long range is widened to and the title's times; default the region's zone (Europe/Moscow for RU-RYA)")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, ok := mapMetrics[*metric]
	ext := strings.ToLower(filepath.Ext(*out))
	switch {
	case !ok:
		fmt.Fprintf(env.Stderr, "map: --metric %q: want heat, appeals, incidents or per10k\n", *metric)
		return errUsage
	case ext != ".svg" && ext != ".png":
		fmt.Fprintf(env.Stderr, "map: --out %q: want a .svg or .png file\n", *out)
		return errUsage
	case *since <= 0:
		fmt.Fprintln(env.Stderr, "map: --since must be positive")
		return errUsage
	}
	if *tz == "" {
		*tz = model.RegionZone(*region)
	}
	loc, err := model.LoadZone(*tz)
	if err != nil {
		return fmt.Errorf("map: %w", err)
	}
	raw := geo.DefaultBoundaries()
	if *boundaries != "" {
		if raw, err = os.ReadFile(*boundaries); err != nil {
			return fmt.Errorf("map: %w", err)
		}
	}
	shapes, err := choropleth.ParseGeoJSON(raw)
	if err != nil {
		return err
	}
	to := time.Now().UTC().Truncate(time.Minute)
	from := to.Add(-*since)
	frame, err := heatmapFrame(ctx, ch, *region, *tz, *baselineDays, from, to)
	if err != nil {
		return err
	}
	cm, err := mapFromFrame(frame, m)
	if err != nil {
		return err
	}
	cm.Shapes, cm.Attribution = shapes, *attribution
	cm.Title = m.title + " по муниципалитетам"
	cm.Subtitle = fmt.Sprintf("%s — %s (%s)", from.In(loc).Format("02.01.2006 15:04"), to.In(loc).Format("02.01.2006 15:04"), *tz)
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("map: %w", err)
	}
	if ext == ".png" {
		err = cm.WritePNG(f)
	} else {
		err = cm.WriteSVG(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("map: %w", err)
	}
	fmt.Fprintf(env.Stdout, "%s: %d municipalities, %s %s … %s, unknown place %d\n", *out, len(cm.Values), *metric,
		formatFigure(cm.Scale.Min), formatFigure(cm.Scale.Max), cm.Unknown)
	return nil
}

// heatmapFrame runs the Grafana plugin's own heatmap query against ClickHouse, so that the map and the
// dashboards show the same figures from one piece of SQL.
func heatmapFrame(ctx context.Context, ch *chFlags, region, tz string, baselineDays int, from, to time.Time) (*data.Frame, error) {
	cfg := ch.config()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("map: --clickhouse-addr %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("map: --clickhouse-addr %q: %w", cfg.Addr, err)
	}
	settings, _ := json.Marshal(map[string]any{"host": host, "port": port, "database": cfg.Database, "username": cfg.User,
		"tls": cfg.TLS, "region": region, "timezone": tz})
	ds, err := plugin.New(ctx, backend.DataSourceInstanceSettings{JSONData: settings,
		DecryptedSecureJSONData: map[string]string{"password": cfg.Password}})
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	defer ds.Dispose()
	q, _ := json.Marshal(plugin.QueryModel{QueryType: plugin.QueryHeatmap, BaselineDays: baselineDays})
	resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", QueryType: plugin.QueryHeatmap, JSON: q, TimeRange: backend.TimeRange{From: from, To: to},
	}}})
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		return nil, fmt.Errorf("map: heatmap query: %w", r.Error)
	}
	if len(r.Frames) != 1 {
		return nil, fmt.Errorf("map: heatmap query returned %d frames, want 1", len(r.Frames))
	}
	return r.Frames[0], nil
}

// mapFromFrame reads the values, labels and the unknown-place count of a heatmap frame.
func mapFromFrame(f *data.Frame, m mapMetric) (*choropleth.Map, error) {
	field := func(name string) (*data.Field, error) {
		fld, _ := f.FieldByName(name)
		if fld == nil {
			return nil, fmt.Errorf("map: the heatmap frame has no field %q", name)
		}
		return fld, nil
	}
	var fields [5]*data.Field
	for i, name := range []string{"oktmo", "municipality", "latitude", "longitude", m.field} {
		var err error
		if fields[i], err = field(name); err != nil {
			return nil, err
		}
	}
	cm := &choropleth.Map{Legend: m.legend, Values: map[string]float64{}, Labels: map[string]choropleth.Label{}}
	for i := range fields[0].Len() {
		oktmo, _ := fields[0].At(i).(string)
		name, _ := fields[1].At(i).(string)
		lat, _ := fields[2].At(i).(float64)
		lon, _ := fields[3].At(i).(float64)
		v, ok := fields[4].ConcreteAt(i)
		if !ok {
			continue // per10k of a municipality without population: no data
		}
		cm.Values[oktmo] = toFloat(v)
		cm.Labels[oktmo] = choropleth.Label{Text: shortName(name), At: choropleth.Point{lon, lat}}
	}
	cm.Scale = choropleth.NewScale(cm.Values, m.floor)
	if f.Meta != nil {
		if custom, ok := f.Meta.Custom.(map[string]any); ok {
			if u, ok := custom["unknown"].(map[string]any); ok {
				cm.Unknown = int64(toFloat(u["voices"]))
			}
		}
	}
	return cm, nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case int:
		return float64(x)
	}
	return math.NaN()
}

// shortName keeps labels small: "Шиловский район" → "Шиловский р-н".
func shortName(s string) string { return strings.Replace(s, " район", " р-н", 1) }

func formatFigure(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
