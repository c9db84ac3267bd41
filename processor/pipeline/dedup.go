package pipeline

import (
	"context"
	"fmt"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/dedup"
)

// DedupStage adapts a dedup.Deduper to the pipeline: exact duplicates are dropped, the rest carry their
// incident.
type DedupStage struct{ D dedup.Deduper }

// Dedup implements Deduper.
func (s DedupStage) Dedup(ctx context.Context, batch []*model.Appeal) ([]bool, error) {
	keep := make([]bool, len(batch))
	if len(batch) == 0 {
		return keep, nil
	}
	ds, err := s.D.Decide(ctx, batch)
	if err != nil {
		return nil, err
	}
	if c, ok := s.D.(interface{ StateIntact(context.Context) error }); ok {
		if err := c.StateIntact(ctx); err != nil {
			return nil, err
		}
	}
	if len(ds) != len(batch) {
		return nil, fmt.Errorf("dedup returned %d decisions for %d appeals", len(ds), len(batch))
	}
	for i, d := range ds {
		a := batch[i]
		switch d.Kind {
		case dedup.ExactDuplicate:
			continue
		case dedup.Voice:
			a.IncidentID, a.IsIncident = d.IncidentID, false
		default:
			a.IncidentID, a.IsIncident = a.ID, true
		}
		keep[i] = true
	}
	return keep, nil
}
