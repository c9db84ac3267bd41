package normalize_test

import (
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/normalize"
)

// The second stage takes the appeal as the first stage left it, with the enriched record's own offset as
// its origin; a damaged record is an error (the engine makes it a dead letter).
func TestEnrichedNormalize(t *testing.T) {
	a := &model.Appeal{ID: "vk:1", Source: model.SourceVK, Text: "Нет воды [телефон]", OKTMO: "61701000",
		Category: "ЖКХ", EventTime: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC),
		Origin: model.Offset{Topic: model.RawTopic(model.SourceVK), Partition: 3, Offset: 77}}
	m := kafka.Message{Topic: model.TopicEnriched, Partition: 5, Offset: 12, Value: model.AppendEnriched(nil, a)}
	got, err := normalize.Enriched{}.Normalize(m)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Offset{Topic: model.TopicEnriched, Partition: 5, Offset: 12}
	if got.ID != a.ID || got.Text != a.Text || got.Category != a.Category || !got.EventTime.Equal(a.EventTime) || got.Origin != want {
		t.Fatalf("got %+v, want the appeal with origin %v", got, want)
	}
	m.Value = m.Value[:len(m.Value)-3]
	if _, err := (normalize.Enriched{}).Normalize(m); !errors.Is(err, model.ErrBadEnriched) {
		t.Fatalf("a cut record: %v, want ErrBadEnriched", err)
	}
}
