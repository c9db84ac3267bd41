package benchpeer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

// The peer is ClickHouse's own answer to the same job: a Kafka engine table per raw topic whose
// materialized views parse each message with visitParamExtract* into `appeals` and into every rollup of
// processor/rollup.Tables (same windows, keys and tables as the migrations' views). It stores one row per
// message: no deduplication, classification, PII masking or text-based municipality resolution — only what
// the raw formats state (OKTMO, a municipality name, the nearest municipality centre to a VK post's point).
//
// What 18.16 dictates:
//   - no JSONAsString format: each message is one TSV String column (JSON holds no raw tab or newline;
//     the simulator's payloads hold no backslash that TSV would unescape);
//   - no _topic/_partition/_offset virtual columns: kafka_topic is the table's topic, partition and offset 0;
//   - a view writing into appeals does not trigger appeals' own views, so each rollup has its own view on
//     the Kafka table (the engine pushes every block to all of them);
//   - a view's SELECT must name every column of its target (DEFAULTs are not applied) and cannot hold a
//     subquery ("There is no query"), so each expression is written out in full;
//   - consumption starts with the first view, and blocks read before a later view exists never reach it:
//     the views are created on Kafka tables reading an idle topic, which are then dropped and created
//     again under the same names over the raw topics (a view follows its source by name), so that every
//     view sees the backlog from its first block.

// idleTopic is the topic the Kafka tables read while their views are being created.
const idleTopic = "benchpeer.idle"

// peerSources are the four raw topics' sources.
var peerSources = model.KnownSources

// column is one output of a parsing view: a stored column and its full expression over `raw`.
type column struct{ name, expr string }

// peerTables creates the Kafka engine tables over the raw topics, or over idleTopic when idle.
func peerTables(db, broker, group string, idle bool) []string {
	out := make([]string, 0, len(peerSources))
	for _, src := range peerSources {
		topic, g := model.RawTopic(src), group
		if idle {
			topic, g = idleTopic, group+"_idle"
		}
		out = append(out, fmt.Sprintf(`CREATE TABLE %s.kafka_%s (raw String) ENGINE = Kafka SETTINGS
    kafka_broker_list = '%s', kafka_topic_list = '%s', kafka_group_name = '%s',
    kafka_format = 'TSV', kafka_row_delimiter = '\n', kafka_num_consumers = 1`,
			db, srcIdent(src), broker, topic, groupOf(g, src)))
	}
	return out
}

// dropKafkaTables drops the Kafka tables and leaves their views. Each DROP waits ~3.5 s for its consumer
// to leave the group: the four run at once.
func dropKafkaTables(ctx context.Context, ch driver.Conn, db string) error {
	errs := make(chan error, len(peerSources))
	for _, src := range peerSources {
		go func() {
			if err := ch.Exec(ctx, "DROP TABLE IF EXISTS "+db+".kafka_"+srcIdent(src)); err != nil {
				errs <- fmt.Errorf("benchpeer: drop kafka_%s: %w", src, err)
				return
			}
			errs <- nil
		}()
	}
	var all []error
	for range peerSources {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// peerViews creates the views of every Kafka table: appeals first, then the rollups.
func peerViews(db string, g *geo.Gazetteer) []string {
	var out []string
	for _, src := range peerSources {
		cols := peerColumns(src, g)
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = c.expr + " AS " + c.name
		}
		out = append(out, fmt.Sprintf("CREATE MATERIALIZED VIEW %s.parse_%s TO %s.appeals AS SELECT %s FROM %s.kafka_%s",
			db, srcIdent(src), db, strings.Join(sel, ", "), db, srcIdent(src)))
		for _, t := range rollup.Tables {
			out = append(out, fmt.Sprintf("CREATE MATERIALIZED VIEW %s.%s_%s TO %s.%s AS %s",
				db, t.Name, srcIdent(src), db, t.Name, rollupSelect(t, cols, db+".kafka_"+srcIdent(src))))
		}
	}
	return out
}

var (
	eventTimeRe = regexp.MustCompile(`\bevent_time\b`)
	tzOffsetRe  = regexp.MustCompile(`\btz_offset\b`)
)

// rollupSelect is t's view over appeals (rollup.Table: window, keys, the three sums) with each column of
// appeals replaced by its parsing expression.
func rollupSelect(t rollup.Table, cols []column, from string) string {
	expr := map[string]string{}
	for _, c := range cols {
		expr[c.name] = c.expr
	}
	window := tzOffsetRe.ReplaceAllLiteralString(t.Window, "("+expr["tz_offset"]+")")
	window = eventTimeRe.ReplaceAllLiteralString(window, "("+expr["event_time"]+")")
	sel := []string{window + " AS window_start"}
	for _, k := range t.Keys {
		sel = append(sel, expr[k]+" AS "+k)
	}
	sel = append(sel, "toUInt64(count()) AS incidents", "toUInt64(count()) AS voices", "toUInt64(0) AS late") // every message its own incident, none late
	return fmt.Sprintf("SELECT %s FROM %s GROUP BY window_start, %s", strings.Join(sel, ", "), from, strings.Join(t.Keys, ", "))
}

// peerDrop stops consumption (views first) and removes the Kafka tables.
func peerDrop(ctx context.Context, ch driver.Conn, db string) error {
	var names []string
	for _, src := range peerSources {
		names = append(names, "parse_"+srcIdent(src))
		for _, t := range rollup.Tables {
			names = append(names, t.Name+"_"+srcIdent(src))
		}
	}
	for _, n := range names {
		if err := ch.Exec(ctx, "DROP TABLE IF EXISTS "+db+"."+n); err != nil {
			return fmt.Errorf("benchpeer: drop %s: %w", n, err)
		}
	}
	return dropKafkaTables(ctx, ch, db)
}

func srcIdent(src string) string {
	if src == model.Source112 {
		return "s112"
	}
	return src
}

// peerColumns are one source's parsing expressions for every column of appeals.
func peerColumns(src string, g *geo.Gazetteer) []column {
	oktmos, names, lats, lons := gazetteerArrays(g)
	str := func(key string) string { return "visitParamExtractString(raw, '" + key + "')" }
	nameOf := func(oktmo string) string { return fmt.Sprintf("transform(%s, %s, %s, '')", oktmo, oktmos, names) }
	var sourceID, oktmo, municipality, category, theme, agency, address, text, lat, lon, url, author, eventTime string
	deadline := "toDateTime(0)"
	id := "replaceAll(visitParamExtractRaw(raw, 'id'), '\"', '')" // a number or a string
	switch src {
	case model.SourceVK:
		sourceID = "concat('wall', toString(visitParamExtractInt(raw, 'owner_id')), '_', toString(visitParamExtractUInt(raw, 'id')))"
		coords := str("coordinates") // "lat lon"
		lat = "toFloat64OrZero(splitByChar(' ', " + coords + ")[1])"
		lon = "toFloat64OrZero(arrayElement(splitByChar(' ', " + coords + "), 2))"
		dists := fmt.Sprintf("arrayMap((la, lo) -> greatCircleDistance(%s, %s, lo, la), %s, %s)", lon, lat, lats, lons)
		oktmo = fmt.Sprintf("if(%s = '', '', arrayElement(%s, indexOf(%s, arrayReduce('min', %s))))", coords, oktmos, dists, dists)
		municipality = nameOf(oktmo)
		category, theme, agency, address = "''", "''", "''", "''"
		text, url = str("text"), "concat('https://vk.com/', "+sourceID+")"
		author = "toString(visitParamExtractInt(raw, 'from_id'))"
		eventTime = "toDateTime(visitParamExtractUInt(raw, 'date'))"
	case model.SourceNashDom:
		sourceID = id
		municipality = str("municipality")
		oktmo = fmt.Sprintf("transform(%s, %s, %s, '')", municipality, names, oktmos)
		category, theme, agency, address, text = str("category"), str("theme"), str("executor"), str("address"), str("text")
		lat, lon, url = "visitParamExtractFloat(raw, 'lat')", "visitParamExtractFloat(raw, 'lon')", "''"
		author = str("author_id")
		eventTime = "parseDateTimeBestEffort(" + str("created_at") + ")"
	case model.Source112:
		sourceID = str("card_id")
		oktmo = str("oktmo") // address.oktmo: visitParam finds the first key of that name at any depth
		municipality = fmt.Sprintf("if(%s = '', %s, %s)", oktmo, str("municipality"), nameOf(oktmo))
		category, theme, agency, address, text = "''", str("incident_type"), "''", str("street"), str("description")
		lat, lon, url = "visitParamExtractFloat(raw, 'lat')", "visitParamExtractFloat(raw, 'lon')", "''"
		author = str("phone")
		eventTime = "toDateTime(" + str("created_at") + ", 'Europe/Moscow')" // the card's local time
	default: // ПОС
		sourceID = id
		oktmo = str("oktmo")
		municipality = nameOf(oktmo)
		category, theme, agency, address, text = str("categoryName"), str("subcategoryName"), "''", str("address"), str("text")
		lat, lon, url = "visitParamExtractFloat(raw, 'lat')", "visitParamExtractFloat(raw, 'lon')", "''"
		author = str("authorId")
		eventTime = "parseDateTimeBestEffort(" + str("createdAt") + ")"
		deadline = "parseDateTimeBestEffortOrZero(" + str("responseDeadline") + ")"
	}
	appealID := fmt.Sprintf("concat('%s:', %s)", src, sourceID)
	return []column{
		{"appeal_id", appealID}, {"source", chstore.Literal(src)}, {"source_id", sourceID}, {"region", chstore.Literal(model.DefaultRegion)},
		{"oktmo", oktmo}, {"municipality", municipality},
		{"category", category}, {"category_conf", "toFloat32(0)"}, {"theme", theme}, {"theme_conf", "toFloat32(0)"},
		{"agency", agency}, {"agency_conf", "toFloat32(0)"},
		{"text", text}, {"address", address}, {"lat", lat}, {"lon", lon}, {"url", url},
		{"attachments", "emptyArrayString()"},
		{"author_hash", fmt.Sprintf("lower(hex(sipHash64(concat('%s:', %s))))", src, author)},
		{"fingerprint", "sipHash64(" + text + ")"},
		{"event_time", eventTime}, {"received_time", "now()"}, {"processed_time", "now()"},
		{"status", chstore.Literal(model.StatusNew)}, {"incident_id", appealID}, {"is_incident", "toUInt8(1)"}, {"is_late", "toUInt8(0)"},
		{"kafka_topic", chstore.Literal(model.RawTopic(src))}, {"kafka_partition", "toInt32(0)"}, {"kafka_offset", "toInt64(0)"},
		{"version", "toUInt64(1)"}, {"sla_deadline", deadline},
		// 0012's DEFAULT: the offset of the region's zone (Moscow) at the event.
		{"tz_offset", fmt.Sprintf("toInt32(toUInt32(toDateTime(toString(%s, 'Europe/Moscow'), 'UTC')) - toUInt32(%s))", eventTime, eventTime)},
	}
}

// gazetteerArrays renders the region's municipalities as ClickHouse array literals.
func gazetteerArrays(g *geo.Gazetteer) (oktmos, names, lats, lons string) {
	var o, n, la, lo []string
	for _, m := range g.All() {
		o = append(o, chstore.Literal(m.OKTMO))
		n = append(n, chstore.Literal(m.DisplayName()))
		la = append(la, fmt.Sprintf("%.6f", m.Lat))
		lo = append(lo, fmt.Sprintf("%.6f", m.Lon))
	}
	join := func(s []string) string { return "[" + strings.Join(s, ", ") + "]" }
	return join(o), join(n), join(la), join(lo)
}
