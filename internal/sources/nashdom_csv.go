package sources

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NashDomExportTime is the date of the shared «Наш дом» export (NashDomRyazan-29-03-2019.csv): its rows
// carry no dates, so the importer stamps them with midnight of the export day, Moscow time, unless told
// otherwise. Windows built from such a backfill put the whole export into that one day.
var NashDomExportTime = time.Date(2019, 3, 29, 0, 0, 0, 0, moscow)

// NashDomCSV converts rows of a portal export (CSV) into the portal's JSON record, so that an imported
// appeal and a webhook appeal are the same bytes-shape on Kafka and one parser serves both. Columns are
// found by header name (case-insensitive); unknown columns are ignored. Required: id, text.
type NashDomCSV struct {
	col       map[string]int
	eventTime time.Time
}

// nashDomColumns maps header names (and the Russian ones of the portal's UI exports) to record fields.
var nashDomColumns = map[string]string{
	"id": "id", "номер": "id", "text": "text", "текст": "text", "category": "category", "категория": "category",
	"theme": "theme", "тема": "theme", "executor": "executor", "исполнитель": "executor",
	"created_at": "created_at", "date": "created_at", "дата": "created_at", "municipality": "municipality",
	"address": "address", "адрес": "address", "status": "status", "статус": "status", "lat": "lat", "lon": "lon",
}

// NewNashDomCSV reads the header. eventTime stamps rows without a created_at column or value; zero means
// NashDomExportTime.
func NewNashDomCSV(header []string, eventTime time.Time) (*NashDomCSV, error) {
	if eventTime.IsZero() {
		eventTime = NashDomExportTime
	}
	c := &NashDomCSV{col: map[string]int{}, eventTime: eventTime}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := nashDomColumns[h]; ok {
			if _, dup := c.col[f]; !dup {
				c.col[f] = i
			}
		}
	}
	for _, need := range []string{"id", "text"} {
		if _, ok := c.col[need]; !ok {
			return nil, fmt.Errorf("nashdom csv: no %q column in header %q", need, header)
		}
	}
	return c, nil
}

func (c *NashDomCSV) get(row []string, field string) string {
	i, ok := c.col[field]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// Record converts one row. A row the portal record cannot represent (non-numeric id, bad coordinates) is an
// InvalidError, so the importer dead-letters it like any other invalid message.
func (c *NashDomCSV) Record(row []string) ([]byte, error) {
	id := c.get(row, "id")
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, invalid("nashdom", "missing_field", "id %q is not a portal id", id)
	}
	id = strconv.FormatUint(n, 10) // "007" is portal id 7, and a JSON number may not start with 0

	r := NashDomAppeal{
		ID: json.Number(id), Text: c.get(row, "text"), Category: c.get(row, "category"), Theme: c.get(row, "theme"),
		Executor: c.get(row, "executor"), Municipality: c.get(row, "municipality"), Address: c.get(row, "address"),
		Status: c.get(row, "status"), CreatedAt: c.get(row, "created_at"),
	}
	if r.CreatedAt == "" {
		r.CreatedAt = c.eventTime.Format(time.RFC3339)
	}
	for f, dst := range map[string]*float64{"lat": &r.Lat, "lon": &r.Lon} {
		if s := c.get(row, f); s != "" {
			v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", "."), 64)
			if err != nil {
				return nil, invalid("nashdom", "wrong_type", "%s %q", f, s)
			}
			*dst = v
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("nashdom csv: encode record %s: %w", id, err)
	}
	return b, nil
}
