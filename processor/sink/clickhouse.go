// Package sink writes appeals to ClickHouse and reads back the progress record that makes the pipeline's
// effect exact: every row carries the Kafka topic/partition/offset it came from, each INSERT holds
// consecutive records of one partition and one month (one part, so it lands whole or not at all), and a
// partition resumes after the highest offset already stored.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Progress of one topic-partition as recorded in ClickHouse.
type Progress struct {
	Offset       int64     // highest offset stored; -1 when nothing is
	MaxEventTime time.Time // latest event time stored (restores the watermark)
}

// Sink is the stage interface.
type Sink interface {
	Progress(ctx context.Context, topic string, partition int) (Progress, error)
	// Write stores consecutive appeals of one topic-partition, in Kafka order. It returns only when every
	// row is stored, or with an error once ctx ends.
	Write(ctx context.Context, batch []*model.Appeal) error
}

// Config of the ClickHouse sink.
type Config struct {
	RetryBackoff time.Duration // first pause after a failed insert, doubling to 30 s; default 200ms
}

// ClickHouse is the Sink over a clickhouse-go connection.
type ClickHouse struct {
	conn driver.Conn
	cfg  Config
	log  *slog.Logger
}

// New builds the sink.
func New(conn driver.Conn, cfg Config, log *slog.Logger) *ClickHouse {
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 200 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ClickHouse{conn: conn, cfg: cfg, log: log}
}

// Progress implements Sink.
func (s *ClickHouse) Progress(ctx context.Context, topic string, partition int) (Progress, error) {
	var n uint64
	var off int64
	var maxT time.Time
	err := s.conn.QueryRow(ctx, `SELECT count(), max(max_offset), max(max_event_time) FROM appeal_progress
		WHERE kafka_topic = ? AND kafka_partition = ?`, topic, int32(partition)).Scan(&n, &off, &maxT)
	if err != nil {
		return Progress{}, fmt.Errorf("sink: progress of %s/%d: %w", topic, partition, err)
	}
	if n == 0 {
		return Progress{Offset: -1}, nil
	}
	return Progress{Offset: off, MaxEventTime: maxT.UTC()}, nil
}

const insertAppeals = `INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, municipality,
	category, category_conf, theme, theme_conf, agency, agency_conf, text, address, lat, lon, url, attachments,
	author_hash, fingerprint, event_time, received_time, processed_time, status, incident_id, is_incident,
	is_late, kafka_topic, kafka_partition, kafka_offset, version)`

// Write implements Sink. It first drops the rows ClickHouse already holds: a writer that lost its
// partition in a rebalance while finishing a batch (the group moved on without it) must not store what the
// new owner already stored.
func (s *ClickHouse) Write(ctx context.Context, batch []*model.Appeal) error {
	if len(batch) == 0 {
		return nil
	}
	first := batch[0].Origin
	p, err := s.Progress(ctx, first.Topic, first.Partition)
	if err != nil {
		return err
	}
	if p.Offset >= first.Offset {
		kept := batch[:0:0]
		for _, a := range batch {
			if a.Origin.Offset > p.Offset {
				kept = append(kept, a)
			}
		}
		s.log.Warn("rows already stored by another writer skipped", "topic", first.Topic, "partition", first.Partition,
			"skipped", len(batch)-len(kept), "stored_up_to", p.Offset)
		batch = kept
	}
	for _, run := range monthRuns(batch) {
		if err := s.writeRun(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// monthRuns cuts a batch where the month of the event time changes, keeping Kafka order.
func monthRuns(batch []*model.Appeal) [][]*model.Appeal {
	var runs [][]*model.Appeal
	start := 0
	for i := 1; i <= len(batch); i++ {
		if i == len(batch) || month(batch[i]) != month(batch[start]) {
			runs = append(runs, batch[start:i])
			start = i
		}
	}
	return runs
}

func month(a *model.Appeal) int { y, m, _ := a.EventTime.UTC().Date(); return y*12 + int(m) }

// writeRun inserts one run, retrying until it is stored. After a failure it first asks ClickHouse whether
// the run landed anyway (the acknowledgement may be what was lost), so a retry never doubles a row.
func (s *ClickHouse) writeRun(ctx context.Context, run []*model.Appeal) error {
	if len(run) == 0 {
		return nil
	}
	last := run[len(run)-1].Origin
	backoff := s.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		err := s.insert(ctx, run)
		if err == nil {
			return nil
		}
		s.log.Warn("clickhouse insert failed; will check and retry", "attempt", attempt, "rows", len(run), "err", err)
		for {
			select {
			case <-ctx.Done():
				return fmt.Errorf("sink: insert %d rows up to %s: %w", len(run), last, errors.Join(err, ctx.Err()))
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			p, perr := s.Progress(ctx, last.Topic, last.Partition)
			if perr != nil {
				s.log.Warn("clickhouse unreachable", "err", perr)
				continue
			}
			if p.Offset >= last.Offset {
				return nil // the failed attempt had landed
			}
			break
		}
	}
}

func (s *ClickHouse) insert(ctx context.Context, run []*model.Appeal) error {
	b, err := s.conn.PrepareBatch(ctx, insertAppeals)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	now := time.Now().UTC()
	version := uint64(now.UnixNano())
	for _, a := range run {
		attach := a.Attachments
		if attach == nil {
			attach = []string{}
		}
		err := b.Append(a.ID, a.Source, a.SourceID, a.Region, a.OKTMO, a.Municipality,
			a.Category, a.CategoryConf, a.Theme, a.ThemeConf, a.Agency, a.AgencyConf, a.Text, a.Address, a.Lat, a.Lon,
			a.URL, attach, a.AuthorHash, a.Fingerprint, a.EventTime.UTC(), a.ReceivedTime.UTC(), now, a.Status,
			a.IncidentID, boolU8(a.IsIncident), boolU8(a.IsLate), a.Origin.Topic, int32(a.Origin.Partition), a.Origin.Offset, version)
		if err != nil {
			_ = b.Abort()
			return fmt.Errorf("append %s: %w", a.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

func boolU8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
