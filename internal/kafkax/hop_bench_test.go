package kafkax_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// BenchmarkEnrichedHop measures what a topic between the stages would cost per appeal: issue 15's item 2
// re-keys processed appeals by scope (region:oktmo) onto appeals.enriched so that dedup state can live with
// the partition that owns a scope. Per appeal: encode a parsed appeal (JSON, or the enriched record of
// model.AppendEnriched), produce it keyed by scope with the pipeline's writer, fetch it back with kafka-go
// readers (one per partition) and decode it. The embedded broker runs in this process, so cpu-µs/appeal is everything
// the hop adds on one machine: producer, broker and consumer.
//
//	go test -run '^$' -bench EnrichedHop -benchtime 200000x ./internal/kafkax/
func BenchmarkEnrichedHop(b *testing.B) {
	for _, c := range []struct {
		name   string
		encode func([]byte, *model.Appeal) ([]byte, error)
		decode func([]byte, *model.Appeal) error
	}{
		{"json", func(_ []byte, a *model.Appeal) ([]byte, error) { return json.Marshal(a) }, func(v []byte, a *model.Appeal) error { return json.Unmarshal(v, a) }},
		{"binary", func(dst []byte, a *model.Appeal) ([]byte, error) { return model.AppendEnriched(dst, a), nil }, model.ReadEnriched},
	} {
		b.Run(c.name, func(b *testing.B) { benchHop(b, c.encode, c.decode) })
	}
}

func benchHop(b *testing.B, encode func([]byte, *model.Appeal) ([]byte, error), decode func([]byte, *model.Appeal) error) {
	ctx := context.Background()
	br := testenv.Broker(b)
	brokers := []string{br.Addr()}
	const topic, partitions = "appeals.enriched.bench", 4
	if err := kafkax.EnsureTopics(ctx, brokers, kafkax.Security{}, partitions, topic); err != nil {
		b.Fatal(err)
	}
	appeals := sampleAppeals(b, 2000)
	for _, a := range appeals[:100] { // the codec must give back what it was given
		v, _ := encode(nil, a)
		var back model.Appeal
		if err := decode(v, &back); err != nil {
			b.Fatal(err)
		}
		if w, _ := encode(nil, &back); string(w) != string(v) || back.Text != a.Text || !back.EventTime.Equal(a.EventTime) {
			b.Fatalf("%s does not survive its codec", a.ID)
		}
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = brokers
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()

	b.ResetTimer()
	began, cpu0 := time.Now(), cpuTime()
	var bytes int64
	batch := make([]kafka.Message, 0, 1000)
	for i := 0; i < b.N; i++ {
		a := appeals[i%len(appeals)]
		v, err := encode(nil, a)
		if err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(v))
		batch = append(batch, kafka.Message{Topic: topic, Key: []byte(a.Region + ":" + a.OKTMO), Value: v})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	ends, err := kafkax.EndOffsets(ctx, brokers, kafkax.Security{}, topic)
	if err != nil {
		b.Fatal(err)
	}
	read := make(chan int, partitions)
	for p := 0; p < partitions; p++ {
		go func() {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MinBytes: 1, MaxBytes: 16 << 20,
				MaxWait: 100 * time.Millisecond, Dialer: &kafka.Dialer{Timeout: 5 * time.Second}})
			defer r.Close()
			n := 0
			for int64(n) < ends[p] {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					b.Error(err)
					break
				}
				var a model.Appeal
				if err := decode(m.Value, &a); err != nil {
					b.Error(err)
				}
				n++
			}
			read <- n
		}()
	}
	total := 0
	for p := 0; p < partitions; p++ {
		total += <-read
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if total != b.N {
		b.Fatalf("read %d appeals back, produced %d", total, b.N)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/appeal")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/appeal")
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "appeals/s")
}

// sampleAppeals parses n simulated raw messages of all four sources into appeals and gives them what the
// processor adds (scope, classification, decision), so they encode as an enriched record would.
func sampleAppeals(b *testing.B, n int) []*model.Appeal {
	b.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Seed, cfg.Start = 11, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	g, err := simulator.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	reg := sources.Default("bench", sources.DefaultLimits())
	out := make([]*model.Appeal, 0, n)
	for len(out) < n {
		m := g.Next()
		a, err := reg.Parse(m.Source, m.Payload, sources.Meta{ReceivedAt: m.Arrival, ContentType: m.ContentType})
		if err != nil {
			continue // the simulator's deliberately broken messages
		}
		a.OKTMO, a.Municipality, a.Category, a.Theme, a.Agency = m.OKTMO, "Рязань", m.Category, "Ямы во дворах", "Минтранс"
		a.CategoryConf, a.ThemeConf, a.AgencyConf = 0.9, 0.7, 0.8
		a.IncidentID, a.IsIncident = a.ID, true
		a.Origin = model.Offset{Topic: model.RawTopic(m.Source), Partition: 1, Offset: int64(len(out))}
		out = append(out, a)
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
