package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/redisx"
)

func TestPickSource(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	cases := []struct {
		name       string
		f          Filters
		themeAg    bool
		from, to   string
		step       time.Duration
		table      string
		wFrom, wTo string
	}{
		{"aligned days → 1d", Filters{}, false, "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z", 0, "appeal_counts_1d", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"},
		{"long unaligned range widens to days", Filters{}, false, "2025-06-01T10:30:00Z", "2025-06-30T08:00:00Z", 0, "appeal_counts_1d", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"},
		{"a few unaligned hours → 1m", Filters{}, false, "2025-06-01T10:30:00Z", "2025-06-01T13:00:00Z", 0, "appeal_counts_1m", "2025-06-01T10:30:00Z", "2025-06-01T13:00:00Z"},
		{"a few unaligned hours with a theme → raw", Filters{Themes: []string{"x"}}, false, "2025-06-01T10:30:00Z", "2025-06-01T13:00:00Z", 0, "appeals", "2025-06-01T10:30:00Z", "2025-06-01T13:00:00Z"},
		{"two unaligned days with agency dimension → 1h", Filters{}, true, "2025-06-01T10:30:00Z", "2025-06-03T13:10:00Z", 0, "appeal_counts_1h", "2025-06-01T10:00:00Z", "2025-06-03T14:00:00Z"},
		{"status always raw", Filters{Statuses: []string{"new"}}, false, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 0, "appeals", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"hourly step on a month → 1h", Filters{}, false, "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z", time.Hour, "appeal_counts_1h", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"},
		{"90-minute step is not whole hours → 1m", Filters{}, false, "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z", 90 * time.Minute, "appeal_counts_1m", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, f, to := pickSource(c.f, c.themeAg, d(c.from), d(c.to), c.step, time.UTC)
			if src.table != c.table || !f.Equal(d(c.wFrom)) || !to.Equal(d(c.wTo)) {
				t.Fatalf("got %s %s…%s, want %s %s…%s", src.table, f, to, c.table, c.wFrom, c.wTo)
			}
		})
	}
}

// In the region's calendar (Moscow, UTC+3) days and months start at 21:00 UTC: `now-1y/y` for 2027 is
// already aligned, and a range is widened to local days and split at local months.
func TestPickSourceInTheRegionsCalendar(t *testing.T) {
	msk := model.RegionLocation(model.DefaultRegion)
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	cases := []struct {
		name, from, to string
		table          string
		wFrom, wTo     string
	}{
		{"local year 2027 is aligned", "2027-01-01T00:00:00+03:00", "2028-01-01T00:00:00+03:00", "appeal_counts_1d", "2026-12-31T21:00:00Z", "2027-12-31T21:00:00Z"},
		{"a long range widens to local days", "2027-01-01T00:30:00+03:00", "2027-01-20T10:00:00+03:00", "appeal_counts_1d", "2026-12-31T21:00:00Z", "2027-01-20T21:00:00Z"},
		{"UTC midnights are not local days", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", "appeal_counts_1h", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"},
	}
	for _, c := range cases {
		src, f, to := pickSource(Filters{}, false, d(c.from), d(c.to), 0, msk)
		if src.table != c.table || !f.Equal(d(c.wFrom)) || !to.Equal(d(c.wTo)) {
			t.Errorf("%s: got %s %s…%s, want %s %s…%s", c.name, src.table, f, to, c.table, c.wFrom, c.wTo)
		}
	}
	months, days := splitMonths([][2]time.Time{{d("2026-12-10T21:00:00Z"), d("2027-02-14T21:00:00Z")}}, msk)
	if fmt.Sprint(months) != "[[2026-12-31 21:00:00 +0000 UTC 2027-01-31 21:00:00 +0000 UTC]]" ||
		fmt.Sprint(days) != "[[2026-12-10 21:00:00 +0000 UTC 2026-12-31 21:00:00 +0000 UTC] [2027-01-31 21:00:00 +0000 UTC 2027-02-14 21:00:00 +0000 UTC]]" {
		t.Errorf("local months %v, days %v", months, days)
	}
}

func TestSeriesStep(t *testing.T) {
	cases := []struct{ interval, span, want time.Duration }{
		{0, time.Hour, time.Minute},
		{15 * time.Second, time.Hour, time.Minute},
		{90 * time.Second, time.Hour, 2 * time.Minute},
		{24 * time.Hour, 30 * 24 * time.Hour, 24 * time.Hour},
		{time.Minute, 365 * 24 * time.Hour, 106 * time.Minute}, // capped at maxPoints
	}
	for _, c := range cases {
		if got := seriesStep(c.interval, c.span); got != c.want {
			t.Errorf("seriesStep(%s, %s) = %s, want %s", c.interval, c.span, got, c.want)
		}
	}
}

func TestHeatIndex(t *testing.T) {
	cases := []struct {
		obs, base    uint64
		pDays, bDays float64
		want         float64
	}{
		{0, 0, 30, 90, 1},
		{9, 60, 30, 90, 10.0 / 21},
		{2, 0, 30, 90, 3},
		{3, 9, 30, 90, 1},
		{365, 90, 365, 90, 366.0 / 366},
	}
	for _, c := range cases {
		if got := heatIndex(c.obs, c.base, c.pDays, c.bDays); got != c.want {
			t.Errorf("heatIndex(%d, %d, %v, %v) = %v, want %v", c.obs, c.base, c.pDays, c.bDays, got, c.want)
		}
	}
}

func TestSettings(t *testing.T) {
	cases := []struct {
		name, json string
		secure     map[string]string
		wantErr    string
		check      func(Settings) bool
	}{
		{"defaults", `{"host":"ch"}`, map[string]string{"password": "p"}, "", func(s Settings) bool {
			return s.Port == 9000 && s.Database == "teplokarta" && s.Username == "default" && s.Region == "RU-RYA" &&
				s.StreamInterval() == 10*time.Second && s.CacheTTL() == time.Minute && s.Password == "p" && s.Addr() == "ch:9000" &&
				s.MaxReplicaDelaySeconds == 10
		}},
		{"cache off", `{"host":"ch","cacheTTLSeconds":-1}`, nil, "", func(s Settings) bool { return s.CacheTTL() == 0 }},
		{"no host", `{}`, nil, "ClickHouse host is empty", nil},
		{"bad database", `{"host":"h","database":"x; DROP"}`, nil, `database name "x; DROP" must be an identifier`, nil},
		{"bad region", `{"host":"h","region":"Рязань"}`, nil, `region "Рязань" is not an ISO 3166-2 code like RU-RYA`, nil},
		{"bad port", `{"host":"h","port":70000}`, nil, "ClickHouse port 70000 is out of range", nil},
		{"region's zone by default", `{"host":"h"}`, nil, "", func(s Settings) bool {
			return s.Timezone == "Europe/Moscow" && s.Location().String() == "Europe/Moscow"
		}},
		{"own zone", `{"host":"h","timezone":"Asia/Yekaterinburg"}`, nil, "", func(s Settings) bool { return s.Location().String() == "Asia/Yekaterinburg" }},
		{"unknown zone", `{"host":"h","timezone":"Europe/Ryazan"}`, nil, `time zone "Europe/Ryazan"`, nil},
		{"zone is no SQL", `{"host":"h","timezone":"UTC') OR 1 --"}`, nil, `time zone "UTC') OR 1 --" is not an IANA name`, nil},
		{"not JSON", `{`, nil, "settings: jsonData", nil},
		{"redis sentinel", `{"host":"h","redisAddr":"s1:26379, s2:26379","redisMasterName":"tk"}`, map[string]string{"redisSentinelPassword": "sp"}, "", func(s Settings) bool {
			r := s.Redis()
			return r.Mode() == redisx.Sentinel && len(r.Addrs) == 2 && r.Addrs[1] == "s2:26379" && r.SentinelPassword == "sp"
		}},
		{"redis cluster", `{"host":"h","redisAddr":"n1:6379,n2:6379"}`, nil, "", func(s Settings) bool { return s.Redis().Mode() == redisx.Cluster }},
		{"redis master without sentinels", `{"host":"h","redisMasterName":"tk"}`, nil, "a Redis master name needs the Sentinels' addresses", nil},
		{"redis bad address", `{"host":"h","redisAddr":"redis"}`, nil, `redis: address "redis" is not host:port`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: json.RawMessage(c.json), DecryptedSecureJSONData: c.secure})
			if c.wantErr != "" {
				if err == nil || !hasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !c.check(s) {
				t.Fatalf("%+v %v", s, err)
			}
		})
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func TestSplitMonths(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	seg := func(a, b string) [2]time.Time { return [2]time.Time{d(a), d(b)} }
	cases := []struct {
		name         string
		segs         [][2]time.Time
		months, days [][2]time.Time
	}{
		{"partial months at both ends", [][2]time.Time{seg("2025-03-10", "2025-06-20")},
			[][2]time.Time{seg("2025-04-01", "2025-06-01")}, [][2]time.Time{seg("2025-03-10", "2025-04-01"), seg("2025-06-01", "2025-06-20")}},
		{"whole months only", [][2]time.Time{seg("2025-01-01", "2026-01-01")},
			[][2]time.Time{seg("2025-01-01", "2026-01-01")}, nil},
		{"inside one month: days only", [][2]time.Time{seg("2025-06-03", "2025-06-28")},
			nil, [][2]time.Time{seg("2025-06-03", "2025-06-28")}},
		{"across one month boundary without a whole month", [][2]time.Time{seg("2025-05-20", "2025-06-10")},
			nil, [][2]time.Time{seg("2025-05-20", "2025-06-10")}},
		{"heat map: baseline and range cut at from", [][2]time.Time{seg("2024-10-03", "2025-01-01"), seg("2025-01-01", "2026-01-01")},
			[][2]time.Time{seg("2024-11-01", "2025-01-01"), seg("2025-01-01", "2026-01-01")}, [][2]time.Time{seg("2024-10-03", "2024-11-01")}},
		{"empty segment is skipped", [][2]time.Time{seg("2025-06-01", "2025-06-01")}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, dd := splitMonths(c.segs, time.UTC)
			if fmt.Sprint(m) != fmt.Sprint(c.months) || fmt.Sprint(dd) != fmt.Sprint(c.days) {
				t.Fatalf("months %v days %v, want %v %v", m, dd, c.months, c.days)
			}
		})
	}
}

func TestNarrowed(t *testing.T) {
	day := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	seg := [2]time.Time{day("2025-01-01"), day("2026-01-01")}
	d1 := rollups[0]
	if s := d1.narrowed(Filters{Categories: []string{"ЖКХ"}, Sources: []string{"vk"}}, false, seg); !s.narrow || s.hasThemeAgency {
		t.Fatalf("category/source filters should use the narrow rollups: %+v", s)
	}
	for name, s := range map[string]countSource{
		"theme filter":     d1.narrowed(Filters{Themes: []string{"x"}}, false, seg),
		"agency filter":    d1.narrowed(Filters{Agencies: []string{"x"}}, false, seg),
		"theme dimension":  d1.narrowed(Filters{}, true, seg),
		"1h rollup":        rollups[1].narrowed(Filters{}, false, seg),
		"raw table":        rawSource.narrowed(Filters{}, false, seg),
		"unaligned bounds": d1.narrowed(Filters{}, false, [2]time.Time{seg[0].Add(time.Hour), seg[1]}),
	} {
		if s.narrow {
			t.Errorf("%s: narrow rollups chosen", name)
		}
	}
	sql, args := d1.narrowed(Filters{Sources: []string{"vk"}}, false, [2]time.Time{day("2025-03-10"), day("2025-06-20")}).from(Filters{Sources: []string{"vk"}}, "RU-RYA")
	if strings.Count(sql, "?") != len(args) || !strings.Contains(sql, "FROM appeal_counts_1mo WHERE region IN ? AND source IN ?") ||
		!strings.Contains(sql, " UNION ALL ") || !strings.Contains(sql, "FROM appeal_counts_oktmo_1d WHERE region IN ? AND source IN ?") {
		t.Fatalf("%s %v", sql, args)
	}
}
