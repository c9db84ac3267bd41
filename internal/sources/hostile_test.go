package sources

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/hostile"
)

// TestHostileCorpusParsers replays every case of the hostile corpus through every payload parser the
// processor and ingest run on Kafka records — the four built-in sources, a configured generic source, the
// status parsers of «Наш дом» and ПОС — under the case's content type and under a wrong XML and a wrong
// windows-1251 label, and through the «Наш дом» CSV export rows. Each call must return, without a panic,
// either an appeal or an invalid-input error (a dead letter with a reason), never another error. A hang
// fails the test binary's timeout.
func TestHostileCorpusParsers(t *testing.T) {
	cases, err := hostile.Cases()
	if err != nil {
		t.Fatal(err)
	}
	reg := Default("hostile-test-key", DefaultLimits())
	generic, err := NewGeneric("gis_zhkh", GenericMapping{ID: "ticket.number", Text: Paths{"ticket.subject", "text"}, EventTime: "created_at",
		Address: Paths{"address"}, Lat: "geo.0", Lon: "geo.1", Author: "author.phone", Attachments: "files", OKTMO: "oktmo"}, "hostile-test-key", DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(generic)
	nd, _ := reg.Get("nashdom")
	pos, _ := reg.Get("pos")
	statusParsers := map[string]func([]byte, Meta) error{
		"nashdom status": func(b []byte, m Meta) error { _, err := nd.(*NashDom).ParseStatus(b, m); return err },
		"pos status":     func(b []byte, m Meta) error { _, err := pos.(*POS).ParseStatus(b, m); return err },
	}
	csv, err := NewNashDomCSV([]string{"Номер", "Текст", "Дата", "lat", "lon"}, time.Date(2019, 3, 29, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	recv := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	outcomes := map[string]int{}
	check := func(c hostile.Case, parser, ct string, call func() error) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s: %s (%s) panicked: %v", c.Name, parser, ct, r)
			}
		}()
		err := call()
		switch {
		case err == nil:
			outcomes["parsed"]++
		case errors.Is(err, ErrInvalid) && Reason(err) != "":
			outcomes[Reason(err)]++
		default:
			t.Errorf("%s: %s (%s): %v is not an invalid-input error with a reason", c.Name, parser, ct, err)
		}
	}
	for _, c := range cases {
		cts := []string{c.ContentType, "application/xml", "application/json; charset=windows-1251"}
		for _, source := range reg.Names() {
			for _, ct := range cts {
				check(c, source, ct, func() error {
					_, err := reg.Parse(source, c.Body, Meta{ReceivedAt: recv, ContentType: ct})
					return err
				})
			}
		}
		for name, parse := range statusParsers {
			check(c, name, c.ContentType, func() error { return parse(c.Body, Meta{ReceivedAt: recv, ContentType: c.ContentType}) })
		}
		s := c.String()
		for i, row := range [][]string{{s, s, s, s, s}, {"17", s, "25.11.2026 14:00", s, s}, {"17", "Яма", s, "54,6", "39,7"}, {s}} {
			check(c, fmt.Sprintf("csv row %d", i), "text/csv", func() error {
				rec, err := csv.Record(row)
				if err != nil {
					return err
				}
				_, err = reg.Parse("nashdom", rec, Meta{ReceivedAt: recv, ContentType: "application/json"})
				return err
			})
		}
	}
	t.Logf("%d cases; outcomes: %v", len(cases), outcomes)
}
