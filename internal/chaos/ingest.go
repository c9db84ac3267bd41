package chaos

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
)

// ingestSigkill is the ingest-sigkill fault: the stream arrives through ingest's HTTP API (as in
// production) while ingest is SIGKILLed at three moments and started again on the same address. The
// sender retries a batch until ingest has accepted all of it, as a source's client does, so whatever a
// killed ingest had already written to Kafka before it could answer arrives twice: client retries the
// pipeline must count once. A batch ingest answered 2xx for must never be lost.
func (r *run) ingestSigkill(ctx context.Context, at func() float64) error {
	if _, err := r.startProcessor(); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ing, err := r.startIngest(addr)
	if err != nil {
		return err
	}
	var sent atomic.Int64
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	sink := &retryingSink{inner: simulator.HTTPSink{BaseURL: "http://" + addr, Client: &http.Client{Timeout: 30 * time.Second}}, sent: &sent}
	go func() { errc <- r.simulateHTTP(sendCtx, sink) }()
	marks := []float64{at(), at(), at()}
	slices.Sort(marks)
	for _, m := range marks {
		for sent.Load() < int64(m*float64(r.cfg.Messages)) {
			select {
			case err := <-errc:
				return fmt.Errorf("the stream ended before the kill at %.0f%%: %w", m*100, err)
			case <-time.After(5 * time.Millisecond):
			}
		}
		// A moment later, so that the kill falls inside a batch as often as between two: a batch posts
		// each source's lines in turn, and a source already answered is posted again by the retry.
		time.Sleep(time.Duration(r.rng.IntN(40)) * time.Millisecond)
		ing.kill()
		if ing, err = r.startIngest(addr); err != nil {
			return err
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	// Every message ingest acknowledged is in Kafka; some twice (written, then ingest died unanswered).
	records, err := r.rawRecords(ctx)
	if err != nil {
		return err
	}
	if records < int64(r.truth.Messages) {
		return fmt.Errorf("the raw topics hold %d records, fewer than the %d messages ingest accepted", records, r.truth.Messages)
	}
	fmt.Fprintf(r.log, "chaos: ingest-sigkill seed %d: ingest killed 3 times, %d sends retried, %d of %d messages written twice\n",
		r.seed, sink.retries, records-int64(r.truth.Messages), r.truth.Messages)
	return nil
}

// rawRecords counts the records of the four raw topics (their end offsets: nothing is deleted in a run).
func (r *run) rawRecords(ctx context.Context) (int64, error) {
	var n int64
	for _, src := range model.KnownSources {
		ends, err := kafkax.EndOffsets(ctx, []string{r.brokerAddr()}, kafkax.Security{}, model.RawTopic(src))
		if err != nil {
			return 0, err
		}
		for _, end := range ends {
			n += end
		}
	}
	return n, nil
}

// startIngest starts `teplokarta ingest` (local defaults: no auth) on addr, writing to the run's broker.
func (r *run) startIngest(addr string) (*child, error) {
	c, err := r.start([]string{"ingest", "--local", "--brokers", r.brokerAddr(), "--listen", addr, "--metrics-addr", ""})
	if err != nil {
		return nil, err
	}
	if !listening(addr, c.done) {
		return nil, fmt.Errorf("ingest did not start on %s:\n%s", addr, tail(c.out.String(), 1500))
	}
	r.others = append(r.others, c) // killed with the processors when the run ends
	return c, nil
}

// simulateHTTP sends the run's deterministic stream (the same one simulate writes to Kafka) to ingest.
func (r *run) simulateHTTP(ctx context.Context, sink *retryingSink) error {
	g, err := simulator.New(r.simConfig())
	if err != nil {
		return err
	}
	// Small batches, so that the kills fall inside some of them.
	return simulator.Run(ctx, g, sink, simulator.RunConfig{Count: r.cfg.Messages, BatchSize: 200}, r.truth)
}

// retryingSink re-sends a batch until it is accepted whole.
type retryingSink struct {
	inner   simulator.Sink
	sent    *atomic.Int64
	retries int
}

func (s *retryingSink) Send(ctx context.Context, batch []simulator.Message) error {
	for {
		err := s.inner.Send(ctx, batch)
		if err == nil {
			s.sent.Add(int64(len(batch)))
			return nil
		}
		s.retries++
		select {
		case <-ctx.Done():
			return fmt.Errorf("sending after %d retries: %w (last: %v)", s.retries, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
