package main

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/choropleth"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func redish(c color.RGBA) bool  { return c.R > 150 && c.G < 130 && c.B < 130 }
func blueish(c color.RGBA) bool { return int(c.B) > int(c.R)+40 }

func parseHex(t *testing.T, s string) color.RGBA {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

// TestMapCommand seeds ClickHouse and draws the map with the real command: Ермишинский район has ten
// appeals today and no history (the hottest), Шацкий район none today against one a day before (the
// coolest), three appeals have no municipality.
func TestMapCommand(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	muns := map[string]geo.Municipality{}
	labels := map[string]choropleth.Label{}
	for _, m := range geo.Default().All() {
		muns[m.DisplayName()] = m
		labels[m.OKTMO] = choropleth.Label{Text: shortName(m.DisplayName()), At: choropleth.Point{m.Lon, m.Lat}}
	}
	hot, cool := muns["Ермишинский район"].OKTMO, muns["Шацкий район"].OKTMO
	if hot == "" || cool == "" {
		t.Fatal("gazetteer lacks the test's municipalities")
	}
	ctx := context.Background()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, municipality, category, theme, agency, text, event_time, received_time, processed_time, status, incident_id, is_incident, version)")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	n := 0
	add := func(oktmo string, at time.Time) {
		n++
		id := "m" + strconv.Itoa(n)
		if err := b.Append(id, "vk", id, "RU-RYA", oktmo, "", "ЖКХ", "Отопление", "", "текст", at, at, at, "new", id, uint8(1), uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		add(hot, now.Add(-time.Duration(i+1)*time.Hour))
	}
	for d := range 80 {
		add(cool, now.Add(-time.Duration(d+2)*24*time.Hour))
	}
	for i := range 3 {
		add("", now.Add(-time.Duration(i+1)*time.Hour))
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}

	draw := func(metric, file string) (string, []byte) {
		t.Helper()
		out := filepath.Join(t.TempDir(), file)
		var stdout, stderr bytes.Buffer
		env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
			Log: slog.New(slog.NewTextHandler(&stderr, nil)), Version: "test"}
		code := realMain(env, []string{"map", "--clickhouse-addr", cfg.Addr, "--clickhouse-database", cfg.Database,
			"--since", "24h", "--metric", metric, "--out", out})
		if code != 0 {
			t.Fatalf("map --metric %s: exit %d\n%s%s", metric, code, stdout.String(), stderr.String())
		}
		body, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), body
	}

	t.Run("heat svg", func(t *testing.T) {
		summary, svg := draw("heat", "heat.svg")
		paths := regexp.MustCompile(`<path data-oktmo="(\d+)" data-value="([^"]*)" fill="(#[0-9a-f]{6})"`).FindAllStringSubmatch(string(svg), -1)
		if len(paths) != 29 {
			t.Fatalf("%d municipality paths, want 29", len(paths))
		}
		fill, value := map[string]string{}, map[string]string{}
		for _, p := range paths {
			value[p[1]], fill[p[1]] = p[2], p[3]
		}
		// heat = (observed + 1) / (expected + 1): 11/1 for the hottest, about 1/(80/90 + 1) for the coolest.
		h, _ := strconv.ParseFloat(value[hot], 64)
		c, _ := strconv.ParseFloat(value[cool], 64)
		if h != 11 || c < 0.4 || c > 0.6 {
			t.Errorf("heat of the hottest %s, of the coolest %s; want 11 and about 0.5", value[hot], value[cool])
		}
		if c := parseHex(t, fill[hot]); !redish(c) {
			t.Errorf("hottest municipality filled %s, want red-ish", fill[hot])
		}
		if c := parseHex(t, fill[cool]); !blueish(c) {
			t.Errorf("coolest municipality filled %s, want blue-ish", fill[cool])
		}
		for _, want := range []string{"© OpenStreetMap contributors", "Место не определено", ">3<", "Индекс тепла"} {
			if !strings.Contains(string(svg), want) {
				t.Errorf("SVG lacks %q", want)
			}
		}
		if !strings.Contains(summary, "29 municipalities") || !strings.Contains(summary, "unknown place 3") {
			t.Errorf("summary %q", summary)
		}
	})

	t.Run("appeals png", func(t *testing.T) {
		_, body := draw("appeals", "appeals.png")
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		shapes, err := choropleth.ParseGeoJSON(geo.DefaultBoundaries())
		if err != nil {
			t.Fatal(err)
		}
		layout := &choropleth.Map{Shapes: shapes, Labels: labels} // the command's layout: same shapes, size, labels
		for _, s := range shapes {
			if s.OKTMO != hot && s.OKTMO != cool {
				continue
			}
			x, y, ok := layout.InsidePixel(s, 4)
			if !ok {
				t.Fatalf("no pixel inside %s", s.Name)
			}
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if s.OKTMO == hot && !redish(c) || s.OKTMO == cool && !blueish(c) {
				t.Errorf("%s at (%d,%d) is %v", s.Name, x, y, c)
			}
		}
	})
}

func TestMapCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"map", "--metric", "rainbow"}, {"map", "--out", "x.gif"}, {"map", "--since", "-1h"}} {
		var out bytes.Buffer
		env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" },
			Log: slog.New(slog.NewTextHandler(&out, nil)), Version: "test"}
		if code := realMain(env, args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, code, out.String())
		}
	}
}
