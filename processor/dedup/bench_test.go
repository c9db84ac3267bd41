package dedup

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

var (
	benchStreets = []string{"Есенина", "Ленина", "Гагарина", "Циолковского", "Бирюзова", "Новосёлов", "Крупской",
		"Белякова", "Советской", "Октябрьской", "Спасской", "Каширина", "Пушкина", "Чкалова", "Дачной", "Зубковой",
		"Интернациональной", "Братиславской", "Шереметьевской", "Высоковольтной", "Молодцова", "Тимакова"}
	// Problem clauses and details; a text is an address plus one clause and two details, so distinct
	// problems share little beyond the address, as real ones do.
	benchClauses = append(append(append([]string{}, background...), sameStreet...), burstPipe...)
	benchDetails = []string{"Обращаемся уже третий раз.", "Управляющая компания трубку не берёт.",
		"В доме много пожилых людей и детей.", "Фото прикладываю.", "Ответ из администрации так и не пришёл.",
		"Ситуация повторяется каждую зиму.", "Соседи подтвердят.", "Диспетчер сказал ждать до понедельника.",
		"Просим взять на контроль.", "Мастер приходил, посмотрел и ушёл.", "Это уже опасно для жизни.",
		"Деньги за содержание платим исправно.", "Пишем коллективно от всего подъезда.", "Вчера было то же самое."}
	benchOKTMO = []string{oktmoRyazan, oktmoRyazan, oktmoRyazan, oktmoRyazan, oktmoSasovo, "61705000", "61715000",
		"61658000", "61634000", ""}
)

// streamGen produces a realistic stream: mostly distinct problems, a fifth of them repeated by other
// people or channels (reformatted, with a comment), each within a few hours of the first report.
type streamGen struct {
	rnd    *rand.Rand
	n      int64
	recent []*model.Appeal
}

func newStreamGen(seed uint64) *streamGen {
	return &streamGen{rnd: rand.New(rand.NewPCG(seed, 42))}
}

func (g *streamGen) next() *model.Appeal {
	g.n++
	at := t0.Add(time.Duration(g.n) * 1700 * time.Millisecond) // ≈ 50k appeals a day
	src := model.KnownSources[g.rnd.IntN(len(model.KnownSources))]
	id := strconv.FormatInt(g.n, 10)
	if len(g.recent) > 0 && g.rnd.IntN(5) == 0 {
		orig := g.recent[g.rnd.IntN(len(g.recent))]
		text := orig.Text
		switch g.rnd.IntN(3) {
		case 0:
			text = strings.ToUpper(text)
		case 1:
			text = "Повторно пишу! " + text + " Сколько можно?"
		default:
			text = strings.ReplaceAll(text, "улице ", "ул. ")
		}
		return appealAt(src, id, text, orig.OKTMO, at, 0, g.n)
	}
	text := fmt.Sprintf("%s, дом %d. %s %s %s", benchStreets[g.rnd.IntN(len(benchStreets))], 1+g.rnd.IntN(150),
		benchClauses[g.rnd.IntN(len(benchClauses))], benchDetails[g.rnd.IntN(len(benchDetails))],
		benchDetails[g.rnd.IntN(len(benchDetails))])
	a := appealAt(src, id, text, benchOKTMO[g.rnd.IntN(len(benchOKTMO))], at, 0, g.n)
	if len(g.recent) < 2000 {
		g.recent = append(g.recent, a)
	} else {
		g.recent[g.rnd.IntN(len(g.recent))] = a
	}
	return a
}

func (g *streamGen) batch(n int) []*model.Appeal {
	b := make([]*model.Appeal, n)
	for i := range b {
		b[i] = g.next()
	}
	return b
}

// BenchmarkDecide measures whole-batch throughput against the real Redis, batches of 1000.
func BenchmarkDecide(b *testing.B) {
	d, _, _ := newTestDeduper(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gen := newStreamGen(1)
	batches := make([][]*model.Appeal, b.N)
	for i := range batches {
		batches[i] = gen.batch(1000)
	}
	kinds := map[Kind]int{}
	server, local := testenv.ServerCPU(b, os.Getenv(testenv.EnvRedis))
	b.ReportAllocs()
	b.ResetTimer()
	for _, batch := range batches {
		got, err := d.Decide(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, g := range got {
			kinds[g.Kind]++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "appeals/s")
	b.ReportMetric(float64(kinds[Voice])/float64(b.N*1000), "voice-share")
	if local {
		b.ReportMetric(server().Seconds()*1e6/float64(b.N*1000), "redis-cpu-µs/appeal")
	}
}

// BenchmarkDecideConcurrent decides batches of 1000 from one stream with four goroutines at once, as a
// processor decides its partitions' batches, and reports what that costs: appeals/s, this process's and
// Redis's CPU per appeal, and incident claims re-decided after a race per appeal (docs/deduplication.md,
// "One instance, many partitions").
func BenchmarkDecideConcurrent(b *testing.B) {
	const workers, size = 4, 1000
	d, _, _ := newTestDeduper(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gen := newStreamGen(1)
	batches := make([][]*model.Appeal, b.N)
	for i := range batches {
		batches[i] = gen.batch(size)
	}
	server, local := testenv.ServerCPU(b, os.Getenv(testenv.EnvRedis))
	self := testenv.CPUSince(b, os.Getpid())
	b.ResetTimer()
	if err := decideConcurrently(ctx, d, workers, batches); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	n := float64(b.N * size)
	b.ReportMetric(n/b.Elapsed().Seconds(), "appeals/s")
	b.ReportMetric(self().Seconds()*1e6/n, "cpu-µs/appeal")
	b.ReportMetric(counterValue(d.m.conflicts)/n, "conflicts/appeal")
	if local {
		b.ReportMetric(server().Seconds()*1e6/n, "redis-cpu-µs/appeal")
	}
}

// BenchmarkPrepare measures the Go-side cost alone (tokenise, stem, hash, bands): the processor CPU the
// stage takes besides its decisions. core is what every deduper computes (all that Local and
// Partitioned need); redis adds the keys, band fields and buffers of the Redis round trips.
func BenchmarkPrepare(b *testing.B) {
	d, err := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), Config{})
	if err != nil {
		b.Fatal(err)
	}
	batch := newStreamGen(2).batch(1000)
	for _, bc := range []struct {
		name    string
		prepare func([]*model.Appeal) []*item
	}{{"core", d.core.prepare}, {"redis", d.prepare}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.prepare(batch)
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "appeals/s")
		})
	}
}

// BenchmarkRedisMemoryPerAppeal decides 100k appeals and reports Redis used_memory growth per appeal,
// and the Go heap in use afterwards (the stage keeps no per-appeal state in the process). It also
// reports the state's payload per appeal, which is what any other home for it (partition-local memory,
// an embedded store) would have to hold: band fields, member-record bytes, id and exact-text claims
// (docs/deduplication.md, "Sizing partition-local state").
func BenchmarkRedisMemoryPerAppeal(b *testing.B) {
	const total = 100_000
	for range b.N {
		d, rdb, _ := newTestDeduper(b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		before := testenv.RedisUsedMemory(b, rdb)
		gen := newStreamGen(3)
		for i := 0; i < total; i += 1000 {
			if _, err := d.Decide(ctx, gen.batch(1000)); err != nil {
				b.Fatal(err)
			}
		}
		after := testenv.RedisUsedMemory(b, rdb)
		testenv.ReadDedupPayload(b, rdb, d.cfg.KeyPrefix).Report(b, total)
		cancel()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(after-before)/total, "redis-bytes/appeal")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "go-heap-MB")
	}
}

// BenchmarkLocalMemoryPerAppeal decides 200,000 appeals of the synthetic stream with the in-process state
// (batches of 1000, one goroutine) and reports the Go heap it holds per appeal afterwards and the CPU per
// appeal, the decision included.
//
//	go test -run '^$' -bench LocalMemoryPerAppeal -benchtime 1x ./processor/dedup/
func BenchmarkLocalMemoryPerAppeal(b *testing.B) {
	const n = 200_000
	for range b.N {
		b.StopTimer()
		d, err := NewLocal(DefaultConfig(), nil)
		if err != nil {
			b.Fatal(err)
		}
		gen := newStreamGen(1)
		batches := make([][]*model.Appeal, n/1000)
		for i := range batches {
			batches[i] = gen.batch(1000)
		}
		ctx := context.Background()
		// Warm the stem cache, as a running processor's is, and weigh the heap without the state.
		if _, err := newLocalWithCore(d).Decide(ctx, batches[0]); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for _, batch := range batches {
			if _, err := d.Decide(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(batches) // weighed on both sides
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heap-B/appeal")
		s := d.Size()
		b.ReportMetric(float64(s.HeapBytes())/n, "estimate-B/appeal")
		b.ReportMetric(float64(s.Members)/n, "members/appeal")
		b.ReportMetric(float64(s.Bands)/n, "bands/appeal")
		runtime.KeepAlive(d)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*n), "µs/appeal")
}

// newLocalWithCore is another Local on d's core (stemmer included), for warming the cache.
func newLocalWithCore(d *Local) *Local { return newLocalWith(d.core, d.now) }

// BenchmarkLocalRebuild: the in-process state rebuilt from ClickHouse, as `process --dedup-state local`
// does at start (and `partition` for the partitions it is handed): TEPLOKARTA_BENCH_REBUILD_APPEALS
// appeals of the synthetic stream decided and stored first (default 100,000), then rebuilt b.N times into
// an empty state. Needs TEPLOKARTA_TEST_CLICKHOUSE.
//
//	TEPLOKARTA_BENCH_REBUILD_APPEALS=1000000 go test -run '^$' -bench LocalRebuild -benchtime 2x -timeout 30m ./processor/dedup/
func BenchmarkLocalRebuild(b *testing.B) {
	n := 100_000
	if v := os.Getenv("TEPLOKARTA_BENCH_REBUILD_APPEALS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("TEPLOKARTA_BENCH_REBUILD_APPEALS=%q: want a number ≥ 1000", v)
		}
	}
	conn, _ := testenv.ClickHouse(b)
	ctx := testCtx(b)
	d, err := NewLocal(DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	gen := newStreamGen(1)
	stored := 0
	for sent := 0; sent < n; sent += 1000 {
		batch := gen.batch(1000)
		decs, err := d.Decide(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		stored += storeAppeals(b, conn, batch, decs)
	}
	b.ResetTimer()
	quiet := DefaultConfig()
	quiet.Logger = slog.New(slog.DiscardHandler) // its "rebuilt" line would split the benchmark's
	for range b.N {
		fresh, err := NewLocal(quiet, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := fresh.Rebuild(ctx, conn, time.Now().Add(-24*time.Hour))
		if err != nil || rows != stored {
			b.Fatalf("rebuilt %d rows of %d: %v", rows, stored, err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*stored), "µs/row")
	b.ReportMetric(float64(stored), "rows")
}
