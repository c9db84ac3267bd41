package kafkax_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
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
// the partition that owns a scope. Per appeal: encode a parsed appeal (JSON, or the compact binary form
// below), produce it keyed by scope with the pipeline's writer, fetch it back with kafka-go readers (one
// per partition) and decode it. The embedded broker runs in this process, so cpu-µs/appeal is everything
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
		{"binary", func(dst []byte, a *model.Appeal) ([]byte, error) { return appendAppeal(dst, a), nil }, readAppeal},
	} {
		b.Run(c.name, func(b *testing.B) { benchHop(b, c.encode, c.decode) })
	}
}

func benchHop(b *testing.B, encode func([]byte, *model.Appeal) ([]byte, error), decode func([]byte, *model.Appeal) error) {
	ctx := context.Background()
	br := testenv.Broker(b)
	brokers := []string{br.Addr()}
	const topic, partitions = "appeals.enriched.bench", 4
	if err := kafkax.EnsureTopics(ctx, brokers, partitions, topic); err != nil {
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
	ends, err := kafkax.EndOffsets(ctx, brokers, topic)
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

// appendAppeal is a compact binary form of an appeal, for the benchmark's comparison with JSON: strings
// length-prefixed, integers as varints, times as Unix nanoseconds (UTC), floats by their bits.
func appendAppeal(dst []byte, a *model.Appeal) []byte {
	str := func(v string) { dst = binary.AppendUvarint(dst, uint64(len(v))); dst = append(dst, v...) }
	tm := func(t time.Time) {
		if t.IsZero() {
			dst = binary.AppendVarint(dst, math.MinInt64)
			return
		}
		dst = binary.AppendVarint(dst, t.UnixNano())
	}
	for _, v := range []string{a.ID, a.Source, a.SourceID, a.Region, a.Text, a.Address, a.URL, a.AuthorHash, a.OKTMO,
		a.Municipality, a.Category, a.Theme, a.Agency, a.IncidentID, a.Status, a.Origin.Topic,
		a.Hints.OKTMO, a.Hints.Municipality, a.Hints.Category, a.Hints.Theme, a.Hints.Agency, a.Hints.Status, a.Hints.Lead} {
		str(v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Attachments)))
	for _, v := range a.Attachments {
		str(v)
	}
	tm(a.EventTime)
	tm(a.ReceivedTime)
	tm(a.Hints.Deadline)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.Lat))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.Lon))
	for _, f := range []float32{a.CategoryConf, a.ThemeConf, a.AgencyConf} {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	dst = binary.LittleEndian.AppendUint64(dst, a.Fingerprint)
	var flags byte
	if a.IsIncident {
		flags |= 1
	}
	if a.IsLate {
		flags |= 2
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, int64(a.Origin.Partition))
	return binary.AppendVarint(dst, a.Origin.Offset)
}

// readAppeal reads what appendAppeal wrote.
func readAppeal(v []byte, a *model.Appeal) error {
	bad := errors.New("enriched appeal: truncated")
	uv := func() uint64 {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			v = nil
			return 0
		}
		v = v[n:]
		return x
	}
	sv := func() int64 {
		x, n := binary.Varint(v)
		if n <= 0 {
			v = nil
			return 0
		}
		v = v[n:]
		return x
	}
	str := func() string {
		n := uv()
		if uint64(len(v)) < n {
			v = nil
			return ""
		}
		s := string(v[:n])
		v = v[n:]
		return s
	}
	tm := func() time.Time {
		if x := sv(); x != math.MinInt64 {
			return time.Unix(0, x).UTC()
		}
		return time.Time{}
	}
	for _, p := range []*string{&a.ID, &a.Source, &a.SourceID, &a.Region, &a.Text, &a.Address, &a.URL, &a.AuthorHash, &a.OKTMO,
		&a.Municipality, &a.Category, &a.Theme, &a.Agency, &a.IncidentID, &a.Status, &a.Origin.Topic,
		&a.Hints.OKTMO, &a.Hints.Municipality, &a.Hints.Category, &a.Hints.Theme, &a.Hints.Agency, &a.Hints.Status, &a.Hints.Lead} {
		*p = str()
	}
	if n := uv(); n > 0 && n <= uint64(len(v)) {
		a.Attachments = make([]string, n)
		for i := range a.Attachments {
			a.Attachments[i] = str()
		}
	}
	a.EventTime, a.ReceivedTime, a.Hints.Deadline = tm(), tm(), tm()
	if len(v) < 8+8+12+8+1 {
		return bad
	}
	a.Lat = math.Float64frombits(binary.LittleEndian.Uint64(v))
	a.Lon = math.Float64frombits(binary.LittleEndian.Uint64(v[8:]))
	a.CategoryConf = math.Float32frombits(binary.LittleEndian.Uint32(v[16:]))
	a.ThemeConf = math.Float32frombits(binary.LittleEndian.Uint32(v[20:]))
	a.AgencyConf = math.Float32frombits(binary.LittleEndian.Uint32(v[24:]))
	a.Fingerprint = binary.LittleEndian.Uint64(v[28:])
	a.IsIncident, a.IsLate = v[36]&1 != 0, v[36]&2 != 0
	v = v[37:]
	a.Origin.Partition = int(sv())
	a.Origin.Offset = sv()
	if v == nil {
		return bad
	}
	return nil
}
