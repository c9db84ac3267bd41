package normalize_test

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/processor/normalize"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// A received_at header is the appeal's receive time only when a column can hold it; otherwise (a record
// produced by hand) the processing time stands in, as for a record without the header.
func TestReceivedAtHeader(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	n := normalize.New(sources.Default("test-pii-key-0123456789", sources.DefaultLimits()), pii.New(), func() time.Time { return now })
	body := []byte(`{"id":1,"createdAt":"2026-11-26T10:00:00+03:00","text":"Не горят фонари"}`)
	for _, tc := range []struct {
		header string
		want   time.Time
	}{
		{"2026-11-26T11:59:00Z", time.Date(2026, 11, 26, 11, 59, 0, 0, time.UTC)},
		{"", now},
		{"yesterday", now},
		{"1999-12-31T23:59:59Z", now},
		{"0000-01-01T00:30:00+01:00", now},                    // year -1 in UTC
		{"9999-12-31T23:00:00-05:00", now},                    // year 10000 in UTC
		{"2106-02-07T06:28:16Z", now},                         // one second past DateTime
		{"2106-02-07T06:28:15Z", time.Unix(1<<32-1, 0).UTC()}, // DateTime's last second
	} {
		m := kafka.Message{Topic: model.RawTopic(model.SourcePOS), Value: body}
		if tc.header != "" {
			m.Headers = []kafka.Header{{Key: model.HeaderReceivedAt, Value: []byte(tc.header)}}
		}
		a, err := n.Normalize(m)
		if err != nil {
			t.Fatalf("header %q: %v", tc.header, err)
		}
		if !a.ReceivedTime.Equal(tc.want) {
			t.Errorf("header %q: received %v, want %v", tc.header, a.ReceivedTime, tc.want)
		}
	}
}
