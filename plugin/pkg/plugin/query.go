package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Query types: one typed JSON model each, all sharing QueryModel.
const (
	QueryHeatmap    = "heatmap"
	QueryTimeseries = "timeseries"
	QueryTop        = "top"
	QuerySLA        = "sla"
	QueryAppeals    = "appeals"
	QueryPlanning   = "planning"
)

// QueryTypes lists every query type the backend answers (the dashboard test checks panels against it).
var QueryTypes = []string{QueryHeatmap, QueryTimeseries, QueryTop, QuerySLA, QueryAppeals, QueryPlanning}

// Filters narrow every query type. An empty list means "no filter"; values are matched exactly and only
// ever reach SQL as bound parameters.
type Filters struct {
	Regions        []string `json:"regions,omitempty"`
	Municipalities []string `json:"municipalities,omitempty"` // OKTMO codes
	Categories     []string `json:"categories,omitempty"`
	Themes         []string `json:"themes,omitempty"`
	Sources        []string `json:"sources,omitempty"`
	Agencies       []string `json:"agencies,omitempty"`
	Statuses       []string `json:"statuses,omitempty"`
}

// Bounds of filter values: every value is inlined into ClickHouse's query text as a quoted literal, and a
// query over max_query_size (256 KiB) fails inside ClickHouse; real values (codes, names of categories and
// agencies) are far shorter.
const (
	MaxFilterValues     = 1000
	MaxFilterValueBytes = 512
)

// validate refuses filter lists a dashboard cannot mean: too many or too long values, or bytes that are
// not UTF-8 (no stored value is).
func (f Filters) validate() error {
	for _, l := range []struct {
		name string
		vals []string
	}{{"regions", f.Regions}, {"municipalities", f.Municipalities}, {"categories", f.Categories}, {"themes", f.Themes},
		{"sources", f.Sources}, {"agencies", f.Agencies}, {"statuses", f.Statuses}} {
		if len(l.vals) > MaxFilterValues {
			return fmt.Errorf("filters.%s: %d values, at most %d", l.name, len(l.vals), MaxFilterValues)
		}
		for _, v := range l.vals {
			if len(v) > MaxFilterValueBytes || !utf8.ValidString(v) {
				return fmt.Errorf("filters.%s: a value over %d bytes or not UTF-8", l.name, MaxFilterValueBytes)
			}
		}
	}
	return nil
}

// QueryModel is the JSON of one panel query (the frontend contract).
type QueryModel struct {
	QueryType    string  `json:"queryType"`
	Filters      Filters `json:"filters"`
	Measure      string  `json:"measure,omitempty"`      // incidents (default) | voices
	GroupBy      string  `json:"groupBy,omitempty"`      // timeseries, sla, planning
	Dimension    string  `json:"dimension,omitempty"`    // top
	Limit        int     `json:"limit,omitempty"`        // top: 10, appeals: 100; max 10000
	BaselineDays int     `json:"baselineDays,omitempty"` // heatmap: 90
}

// Defaults and bounds of the query model.
const (
	MeasureIncidents    = "incidents"
	MeasureVoices       = "voices"
	DefaultTopLimit     = 10
	DefaultAppealsLimit = 100
	MaxLimit            = 10000
	DefaultBaselineDays = 90
	MaxBaselineDays     = 3660
)

// Group-by and dimension values.
const (
	ByCategory     = "category"
	ByTheme        = "theme"
	ByMunicipality = "municipality"
	BySource       = "source"
	ByAgency       = "agency"
	ByNone         = "none"
)

// ParseQuery decodes a query's JSON (queryType may come from the envelope) and applies the defaults.
func ParseQuery(queryType string, raw json.RawMessage) (QueryModel, error) {
	var q QueryModel
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &q); err != nil {
			return q, fmt.Errorf("query model: %w", err)
		}
	}
	if queryType != "" {
		q.QueryType = queryType
	}
	q.applyDefaults()
	return q, q.Validate()
}

func (q *QueryModel) applyDefaults() {
	if q.Measure == "" {
		q.Measure = MeasureIncidents
	}
	switch q.QueryType {
	case QueryTimeseries:
		if q.GroupBy == "" {
			q.GroupBy = ByCategory
		}
	case QuerySLA:
		if q.GroupBy == "" {
			q.GroupBy = ByAgency
		}
	case QueryPlanning:
		if q.GroupBy == "" {
			q.GroupBy = ByMunicipality
		}
	case QueryTop:
		if q.Dimension == "" {
			q.Dimension = ByCategory
		}
		if q.Limit == 0 {
			q.Limit = DefaultTopLimit
		}
	case QueryAppeals:
		if q.Limit == 0 {
			q.Limit = DefaultAppealsLimit
		}
	case QueryHeatmap:
		if q.BaselineDays == 0 {
			q.BaselineDays = DefaultBaselineDays
		}
	}
}

// Validate checks every enumerated field against its whitelist: these values pick SQL identifiers.
func (q QueryModel) Validate() error {
	var errs []error
	if !slices.Contains(QueryTypes, q.QueryType) {
		errs = append(errs, fmt.Errorf("unknown queryType %q (want one of %v)", q.QueryType, QueryTypes))
	}
	if q.Measure != MeasureIncidents && q.Measure != MeasureVoices {
		errs = append(errs, fmt.Errorf("unknown measure %q (want incidents or voices)", q.Measure))
	}
	allowed := map[string][]string{
		QueryTimeseries: {ByCategory, ByMunicipality, BySource, ByAgency, ByNone},
		QuerySLA:        {ByAgency, ByMunicipality},
		QueryPlanning:   {ByCategory, ByMunicipality, ByNone},
	}
	if vals, ok := allowed[q.QueryType]; ok && !slices.Contains(vals, q.GroupBy) {
		errs = append(errs, fmt.Errorf("groupBy %q is not valid for %s (want one of %v)", q.GroupBy, q.QueryType, vals))
	}
	if q.QueryType == QueryTop && !slices.Contains([]string{ByCategory, ByTheme, ByAgency, ByMunicipality}, q.Dimension) {
		errs = append(errs, fmt.Errorf("unknown dimension %q (want category, theme, agency or municipality)", q.Dimension))
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		errs = append(errs, fmt.Errorf("limit %d is outside 1..%d", q.Limit, MaxLimit))
	}
	if q.BaselineDays < 0 || q.BaselineDays > MaxBaselineDays {
		errs = append(errs, fmt.Errorf("baselineDays %d is outside 1..%d", q.BaselineDays, MaxBaselineDays))
	}
	errs = append(errs, q.Filters.validate())
	return errors.Join(errs...)
}
