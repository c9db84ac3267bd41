package app_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/processor/dedup"
	"github.com/teplokarta/teplokarta/processor/enrich"
	"github.com/teplokarta/teplokarta/processor/normalize"
	"github.com/teplokarta/teplokarta/processor/pii"
	"github.com/teplokarta/teplokarta/processor/resolve"
)

// BenchmarkStagesPerMessage runs the processor's per-message work in this process, without Kafka or
// ClickHouse: the records `make bench-peer` simulates (the same generator settings, 100,000 of them) go
// through normalization (parsing, PII masking), enrichment (classification, municipality, routing) and
// deduplication with the in-process state (`--dedup-state local`), in batches of 1,000. It reports this
// process's CPU per message of each stage (getrusage, which other load on a shared machine does not
// inflate as it does ns/op): the part of `make bench-peer`'s processor figure that is not Kafka's
// client, the sink or the collector's. No server is needed.
//
//	go test -run '^$' -bench StagesPerMessage -benchtime 3x ./processor/app/
func BenchmarkStagesPerMessage(b *testing.B) {
	const n = 100_000
	sc := simulator.DefaultConfig()
	sc.Seed, sc.Rate, sc.VKGeoShare = 1, 7, 1
	sc.Start = time.Now().Add(-60 * time.Hour).Truncate(time.Hour)
	gen, err := simulator.New(sc)
	if err != nil {
		b.Fatal(err)
	}
	var msgs []kafka.Message
	collect := collectSink(func(batch []simulator.Message) {
		for _, m := range batch {
			r := simulator.RawRecord(m)
			r.Partition, r.Offset = 0, int64(len(msgs))
			msgs = append(msgs, r)
		}
	})
	if err := simulator.Run(context.Background(), gen, collect, simulator.RunConfig{Count: n, BatchSize: 1000}, simulator.NewTruth()); err != nil {
		b.Fatal(err)
	}
	norm := normalize.New(sources.Default("bench-pii-key-0123456789", sources.DefaultLimits()), pii.New(), time.Now)
	st, err := enrich.Load("", "", "")
	if err != nil {
		b.Fatal(err)
	}
	st.Resolver = resolve.New(geo.Default())
	var cpuNorm, cpuEnrich, cpuDedup time.Duration
	for b.Loop() {
		d, err := dedup.NewLocal(dedup.DefaultConfig(), nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(msgs); i += 1000 {
			batch := msgs[i:min(i+1000, len(msgs))]
			appeals := make([]*model.Appeal, 0, len(batch))
			t0 := cpuTime()
			for _, m := range batch {
				a, err := norm.Normalize(m)
				if err != nil {
					b.Fatalf("offset %d: %v", m.Offset, err)
				}
				appeals = append(appeals, a)
			}
			t1 := cpuTime()
			for _, a := range appeals {
				st.Enrich(a)
			}
			t2 := cpuTime()
			if _, err := d.Decide(context.Background(), appeals); err != nil {
				b.Fatal(err)
			}
			t3 := cpuTime()
			cpuNorm, cpuEnrich, cpuDedup = cpuNorm+t1-t0, cpuEnrich+t2-t1, cpuDedup+t3-t2
		}
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1e6 / float64(b.N*len(msgs)) }
	b.ReportMetric(per(cpuNorm), "normalize-µs/msg")
	b.ReportMetric(per(cpuEnrich), "enrich-µs/msg")
	b.ReportMetric(per(cpuDedup), "dedup-µs/msg")
	b.ReportMetric(per(cpuNorm+cpuEnrich+cpuDedup), "cpu-µs/msg")
}

type collectSink func([]simulator.Message)

func (c collectSink) Send(_ context.Context, batch []simulator.Message) error {
	c(batch)
	return nil
}

// cpuTime is this process's CPU time (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
