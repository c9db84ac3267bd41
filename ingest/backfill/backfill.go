// Package backfill imports a source's export (CSV, JSON array, NDJSON) through the same ingestor as the
// live endpoints: same validation, keys, dead letters and metrics, with a progress bar and a summary.
package backfill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// Formats.
const (
	CSV    = "csv"    // «Наш дом» export: rows become the portal's JSON record (sources.NashDomCSV)
	JSON   = "json"   // one JSON array of raw messages (or a single object)
	NDJSON = "ndjson" // one raw message per line
)

// Config of one backfill run.
type Config struct {
	Source      string
	Format      string    // csv | json | ndjson; FormatOf(file) picks one from the name
	ContentType string    // of each message; default application/json
	EventTime   time.Time // CSV rows without a date; default sources.NashDomExportTime (2019-03-29, Moscow)
	BatchSize   int       // messages per produce call; default 500
	Progress    io.Writer // progress bar (stderr); nil = none
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch c.Format {
	case CSV:
		if c.Source != model.SourceNashDom {
			return fmt.Errorf("backfill: csv is the «Наш дом» export format; source %s takes json or ndjson", c.Source)
		}
	case JSON, NDJSON:
	default:
		return fmt.Errorf("backfill: format %q: want csv, json or ndjson", c.Format)
	}
	if c.Source == "" {
		return errors.New("backfill: no source")
	}
	if c.BatchSize < 0 {
		return errors.New("backfill: negative batch size")
	}
	return nil
}

// FormatOf guesses the format from a file name.
func FormatOf(name string) string {
	switch {
	case strings.HasSuffix(name, ".csv"):
		return CSV
	case strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".jsonl"):
		return NDJSON
	}
	return JSON
}

// Summary of a run.
type Summary struct {
	Source   string
	Read     int // records read from the file
	Appeals  int // produced to appeals.raw.<source>
	Status   int // produced to appeals.status
	Rejected int // produced to appeals.dlq
	Reasons  map[string]int
	Elapsed  time.Duration
}

// Sent is what reached its topic as valid.
func (s Summary) Sent() int { return s.Appeals + s.Status }

// Write prints the summary for people.
func (s Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "backfill %s: read %d, sent %d (appeals %d, status changes %d), rejected %d, in %s",
		s.Source, s.Read, s.Sent(), s.Appeals, s.Status, s.Rejected, s.Elapsed.Round(time.Millisecond))
	if s.Elapsed > 0 {
		fmt.Fprintf(w, " (%.0f records/s)", float64(s.Read)/s.Elapsed.Seconds())
	}
	fmt.Fprintln(w)
	reasons := make([]string, 0, len(s.Reasons))
	for r := range s.Reasons {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  rejected %-20s %d\n", r, s.Reasons[r])
	}
}

// item is one record to send, or one the reader already rejected (CSV rows that make no portal record).
type item struct {
	msg    ingest.Message
	reason string
	detail string
}

// Run reads r (size bytes, for the progress bar; ≤0 = unknown) and sends everything. It stops at the first
// Kafka failure: records acknowledged so far stay; rerunning is harmless (same keys, deduplicated
// downstream).
func Run(ctx context.Context, cfg Config, in *ingest.Ingestor, r io.Reader, size int64) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 500
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/json"
	}
	start := time.Now()
	sum := Summary{Source: cfg.Source, Reasons: map[string]int{}}
	cr := &countingReader{r: r}
	bar := newBar(cfg.Progress, cfg.Source, size)
	var batch []item
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := send(ctx, in, cfg.Source, batch, &sum); err != nil {
			return err
		}
		batch = batch[:0]
		bar.update(cr.n, sum)
		return nil
	}
	emit := func(it item) error {
		sum.Read++
		it.msg.Source = cfg.Source
		if it.msg.ContentType == "" {
			it.msg.ContentType = cfg.ContentType
		}
		it.msg.ReceivedAt = time.Now().UTC()
		batch = append(batch, it)
		if len(batch) >= cfg.BatchSize {
			return flush()
		}
		return nil
	}
	var err error
	switch cfg.Format {
	case CSV:
		err = readCSV(cr, cfg.EventTime, emit)
	case NDJSON:
		err = readNDJSON(cr, emit)
	case JSON:
		err = readJSON(cr, emit)
	}
	if err == nil {
		err = flush()
	}
	sum.Elapsed = time.Since(start)
	bar.done(cr.n, sum)
	return sum, err
}

func send(ctx context.Context, in *ingest.Ingestor, source string, batch []item, sum *Summary) error {
	var msgs []ingest.Message
	var results []ingest.Result
	var dead []kafka.Message
	for _, it := range batch {
		if it.reason == "" {
			msgs = append(msgs, it.msg)
			continue
		}
		// Rows the reader could not turn into a message are dead-lettered with their own bytes.
		dead = append(dead, ingest.DeadLetter(source, it.msg.Payload, it.msg.ReceivedAt, it.msg.ContentType, it.reason, it.detail))
		results = append(results, ingest.Result{Outcome: ingest.Rejected, Reason: it.reason, Detail: it.detail})
	}
	if err := in.Produce(ctx, source, dead...); err != nil {
		return err
	}
	for _, r := range results {
		in.Count(source, r)
	}
	res, err := in.Ingest(ctx, msgs...)
	if err != nil {
		return err
	}
	for _, r := range append(results, res...) {
		switch r.Outcome {
		case ingest.Appeal:
			sum.Appeals++
		case ingest.Status:
			sum.Status++
		case ingest.Rejected:
			sum.Rejected++
			sum.Reasons[r.Reason]++
		}
	}
	return nil
}

func readCSV(r io.Reader, eventTime time.Time, emit func(item) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("backfill csv: header: %w", err)
	}
	conv, err := sources.NewNashDomCSV(header, eventTime)
	if err != nil {
		return err
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// A broken quote makes the rest of the file unreliable: stop and say where.
			return fmt.Errorf("backfill csv: %w", err)
		}
		rec, err := conv.Record(row)
		if err != nil {
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			_ = w.Write(row)
			w.Flush()
			if err := emit(item{msg: ingest.Message{Payload: bytes.TrimRight(buf.Bytes(), "\n"), ContentType: "text/csv"},
				reason: sources.Reason(err), detail: err.Error()}); err != nil {
				return err
			}
			continue
		}
		if err := emit(item{msg: ingest.Message{Payload: rec}}); err != nil {
			return err
		}
	}
}

func readNDJSON(r io.Reader, emit func(item) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := emit(item{msg: ingest.Message{Payload: bytes.Clone(line)}}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("backfill ndjson: %w", err)
	}
	return nil
}

// readJSON streams a JSON array, keeping each element's bytes as they are in the file.
func readJSON(r io.Reader, emit func(item) error) error {
	br := bufio.NewReader(r)
	first, err := peekNonSpace(br)
	if err != nil {
		return fmt.Errorf("backfill json: %w", err)
	}
	dec := json.NewDecoder(br)
	if first != '[' {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("backfill json: %w", err)
		}
		return emit(item{msg: ingest.Message{Payload: raw}})
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("backfill json: %w", err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("backfill json: element: %w", err)
		}
		if err := emit(item{msg: ingest.Message{Payload: raw}}); err != nil {
			return err
		}
	}
	return nil
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
		case 0xEF: // UTF-8 BOM
			_, _ = br.Discard(3)
		default:
			return b[0], nil
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
