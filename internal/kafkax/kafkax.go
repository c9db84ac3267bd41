// Package kafkax builds kafka-go clients the way teplokarta needs them: each with its own transport
// (the shared DefaultTransport caches metadata and misses topics created a moment ago), explicit batching
// (the Writer otherwise waits up to a second per batch) and acks from all replicas.
package kafkax

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// ProducerConfig of a Kafka writer.
type ProducerConfig struct {
	Brokers      []string      // bootstrap addresses; default 127.0.0.1:19092 (embedded broker)
	BatchSize    int           // messages per produce request; default 1000
	BatchTimeout time.Duration // longest wait to fill a batch; default 5ms
	// BatchBytes caps one partition's record batch; default 1,000,000. A broker refuses a batch above its
	// message.max.bytes (1,048,588 by default in Apache Kafka and in the embedded broker), so a bigger cap
	// lets two large records to one partition fail together. A single record above it is refused here.
	BatchBytes int64
	Async      bool     // fire-and-forget; never for data that must not be lost
	Security   Security // TLS and SASL; zero: plaintext
}

// DefaultBatchBytes is ProducerConfig.BatchBytes' default, below the brokers' default record-batch limit
// with room for the batch header.
const DefaultBatchBytes = 1_000_000

// DefaultProducerConfig is tuned for low latency on webhooks and high throughput on batches.
func DefaultProducerConfig() ProducerConfig {
	return ProducerConfig{Brokers: []string{"127.0.0.1:19092"}, BatchSize: 1000, BatchTimeout: 5 * time.Millisecond,
		BatchBytes: DefaultBatchBytes}
}

// Validate checks the configuration.
func (c ProducerConfig) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka: no brokers")
	}
	if c.BatchSize < 1 || c.BatchTimeout <= 0 || c.BatchBytes < 0 {
		return errors.New("kafka: batch size and timeout must be positive")
	}
	return nil
}

// Writer is a kafka-go Writer with its own transport, which Close also closes. kafka-go's Writer closes
// only a transport it made itself; one it was given keeps a connection pool whose goroutine re-reads the
// cluster's metadata every few seconds for the life of the process (for a broker that is gone, it redials).
type Writer struct {
	*kafka.Writer
	transport *kafka.Transport
}

// Close flushes pending messages, then closes the writer's connections.
func (w *Writer) Close() error {
	err := w.Writer.Close()
	w.transport.CloseIdleConnections()
	return err
}

// NewWriter returns a writer with no default topic: every message names its topic. Keys are partitioned
// with murmur2, as Kafka's Java clients do, so one appeal id always lands on one partition.
func NewWriter(c ProducerConfig) (*Writer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	t := NewTransport(c.Security)
	return &Writer{transport: t, Writer: &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Balancer:     &kafka.Murmur2Balancer{},
		BatchSize:    c.BatchSize,
		BatchBytes:   c.BatchBytes,
		BatchTimeout: c.BatchTimeout,
		RequiredAcks: kafka.RequireAll,
		Async:        c.Async,
		Transport:    t,
	}}, nil
}

// NewTransport is a fresh transport with sec's TLS and SASL; never share kafka.DefaultTransport. Whoever
// makes one closes it (CloseIdleConnections) when done: its first request starts a connection pool that
// lives until then.
func NewTransport(sec Security) *kafka.Transport {
	return &kafka.Transport{DialTimeout: 5 * time.Second, MetadataTTL: 5 * time.Second, ClientID: "teplokarta",
		TLS: sec.TLS, SASL: sec.SASL}
}

// NewClient is a client on a transport of its own, for a few admin requests; call close when done.
func NewClient(brokers []string, sec Security, timeout time.Duration) (client *kafka.Client, close func()) {
	t := NewTransport(sec)
	return &kafka.Client{Addr: kafka.TCP(brokers...), Transport: t, Timeout: timeout}, t.CloseIdleConnections
}

// SplitBrokers parses a comma-separated broker list.
func SplitBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// EnsureTopics creates missing topics (production Kafka may have auto-creation off). Existing topics are
// left as they are.
func EnsureTopics(ctx context.Context, brokers []string, sec Security, partitions int, topics ...string) error {
	client, done := NewClient(brokers, sec, 10*time.Second)
	defer done()
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: -1})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafka: create topics: %w", err)
	}
	for t, e := range resp.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			return fmt.Errorf("kafka: create topic %s: %w", t, e)
		}
	}
	return nil
}

// GrowTopic creates topic with want partitions if it is missing, and adds partitions to it if it has fewer.
// Kafka never takes partitions away: a topic that has more keeps them. It returns the topic's count
// before (0: it was missing) and after.
func GrowTopic(ctx context.Context, brokers []string, sec Security, topic string, want int) (before, after int, err error) {
	client, done := NewClient(brokers, sec, 10*time.Second)
	defer done()
	ids, err := partitions(ctx, client, topic)
	switch {
	case errors.Is(err, ErrNoTopic):
		// Created here, not read back: a new topic's metadata may lag its creation.
		return 0, want, EnsureTopics(ctx, brokers, sec, want, topic)
	case err != nil:
		return 0, 0, err
	case len(ids) >= want:
		return len(ids), len(ids), nil
	}
	resp, err := client.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: int32(want)}}})
	if err != nil {
		return len(ids), 0, fmt.Errorf("kafka: add partitions to %s: %w", topic, err)
	}
	if e := resp.Errors[topic]; e != nil {
		return len(ids), 0, fmt.Errorf("kafka: add partitions to %s: %w", topic, e)
	}
	return len(ids), want, nil
}

// WaitReady polls the brokers until one answers metadata requests or ctx ends. An address that answers
// in another protocol, or a SASL listener met without SASL, ends the wait at once (Misconfigured).
func WaitReady(ctx context.Context, brokers []string, sec Security) error {
	client, done := NewClient(brokers, sec, 2*time.Second)
	defer done()
	for {
		err := CheckBrokers(ctx, brokers, sec)
		if Misconfigured(err) {
			return err
		}
		if err == nil {
			_, err = client.Metadata(ctx, &kafka.MetadataRequest{})
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: broker %v not ready: %w", brokers, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Misconfigured reports the probe's answers that waiting will not change: an address that speaks another
// protocol (ErrNotKafka, TLS met in plaintext included) or a broker that wants SASL (ErrNeedsSASL).
func Misconfigured(err error) bool {
	return errors.Is(err, ErrNotKafka) || errors.Is(err, ErrNeedsSASL)
}

// CheckBrokers probes every address: a Misconfigured error if any answers so, else an error only when
// none answers as a broker.
func CheckBrokers(ctx context.Context, brokers []string, sec Security) error {
	var errs []error
	for _, b := range brokers {
		err := Probe(ctx, b, sec)
		if Misconfigured(err) {
			return err
		}
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return errors.Join(errs...)
}

// Partitions returns the partition ids of a topic.
func Partitions(ctx context.Context, brokers []string, sec Security, topic string) ([]int, error) {
	client, done := NewClient(brokers, sec, 5*time.Second)
	defer done()
	return partitions(ctx, client, topic)
}

func partitions(ctx context.Context, client *kafka.Client, topic string) ([]int, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("kafka: metadata %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == topic {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				return nil, fmt.Errorf("kafka: topic %s: %w (%w)", topic, ErrNoTopic, t.Error)
			}
			if t.Error != nil {
				return nil, fmt.Errorf("kafka: topic %s: %w", topic, t.Error)
			}
			ids := make([]int, 0, len(t.Partitions))
			for _, p := range t.Partitions {
				ids = append(ids, p.ID)
			}
			return ids, nil
		}
	}
	return nil, fmt.Errorf("kafka: topic %s: %w", topic, ErrNoTopic)
}

// ErrNoTopic: the brokers do not know the topic.
var ErrNoTopic = errors.New("no such topic")

// EndOffsets returns each partition's end offset (the offset the next record will get) of a topic.
func EndOffsets(ctx context.Context, brokers []string, sec Security, topic string) (map[int]int64, error) {
	client, done := NewClient(brokers, sec, 10*time.Second)
	defer done()
	parts, err := partitions(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range parts {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
	}
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("kafka: end offsets of %s: %w", topic, err)
	}
	ends := make(map[int]int64, len(parts))
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("kafka: end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		ends[p.Partition] = p.LastOffset
	}
	if len(ends) != len(parts) {
		return nil, fmt.Errorf("kafka: end offsets of %s: %d of %d partitions answered", topic, len(ends), len(parts))
	}
	return ends, nil
}

// HostPort joins host and port.
func HostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
