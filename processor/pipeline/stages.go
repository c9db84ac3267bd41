package pipeline

import (
	"context"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Enricher fills what the text and the source's hints imply: category, theme, agency (classification and
// routing) and municipality. It must be safe for concurrent use and never fail: what it can't determine
// stays empty ("не определено").
type Enricher interface {
	Enrich(a *model.Appeal)
}

// Deduper decides, for a batch in Kafka order, which appeals are exact duplicates (keep=false), which open
// an incident and which are voices of one (it sets IncidentID and IsIncident). Replaying the same records
// (same Origin) must give the same answers.
type Deduper interface {
	Dedup(ctx context.Context, batch []*model.Appeal) (keep []bool, err error)
}
