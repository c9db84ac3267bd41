// Package normalize turns a raw Kafka record into a model.Appeal: it picks the source's parser from the
// record's header (or topic), takes the receive time from ingest's header, masks personal data in the
// text and records where the record came from.
package normalize

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// Normalizer is the stage interface.
type Normalizer interface {
	Normalize(m kafka.Message) (*model.Appeal, error)
}

// Sources normalizes with the shared source parsers.
type Sources struct {
	reg    *sources.Registry
	masker *pii.Masker
	now    func() time.Time
}

// New builds the stage. now is used only when a record lacks ingest's received_at header (e.g. a record
// produced by hand with kcat): the processing time is then the best receive time there is.
func New(reg *sources.Registry, masker *pii.Masker, now func() time.Time) *Sources {
	if now == nil {
		now = time.Now
	}
	return &Sources{reg: reg, masker: masker, now: now}
}

// Normalize implements Normalizer. Errors wrap sources.ErrInvalid for records that belong in the DLQ.
func (s *Sources) Normalize(m kafka.Message) (*model.Appeal, error) {
	source, received, ctype := "", time.Time{}, ""
	for _, h := range m.Headers {
		switch h.Key {
		case model.HeaderSource:
			source = string(h.Value)
		case model.HeaderReceivedAt:
			// A time no column holds (before 2000 or past DateTime's last second) is no receive time:
			// ingest writes the moment it accepted the record, so such a header was written by hand.
			if t, err := time.Parse(time.RFC3339Nano, string(h.Value)); err == nil && t.Year() >= 2000 && t.Unix() <= model.MaxDateTime.Unix() {
				received = t
			}
		case model.HeaderContentType:
			ctype = string(h.Value)
		}
	}
	if source == "" {
		source = model.SourceOfTopic(m.Topic)
	}
	if received.IsZero() {
		received = s.now()
	}
	a, err := s.reg.Parse(source, m.Value, sources.Meta{ReceivedAt: received.UTC(), ContentType: ctype})
	if err != nil {
		return nil, fmt.Errorf("normalize %s/%d/%d: %w", m.Topic, m.Partition, m.Offset, err)
	}
	a.Text = s.masker.Mask(collapseSpace(a.Text))
	a.Address = s.masker.Mask(a.Address)
	a.Status = model.StatusNew
	a.Origin = model.Offset{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	return a, nil
}
