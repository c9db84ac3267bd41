package normalize

import (
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Enriched reads the records of appeals.enriched, which the first stage (pipeline.Rekey) has already
// parsed, masked and enriched. The appeal's origin becomes the enriched record's offset: that is what the
// second stage stores, resumes from and tells replays by.
type Enriched struct{}

// Normalize implements Normalizer.
func (Enriched) Normalize(m kafka.Message) (*model.Appeal, error) {
	a := &model.Appeal{}
	if err := model.ReadEnriched(m.Value, a); err != nil {
		return nil, err
	}
	a.Origin = model.Offset{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	return a, nil
}
