// Package lsmbench measures what partition-local dedup state would cost in an embedded LSM store
// (Pebble, the Go counterpart of the RocksDB that Kafka Streams keeps its state in): issue 15, item 2,
// option 1 of docs/deduplication.md ("Sizing partition-local state"). It is a module of its own so that
// Pebble stays out of the processor's dependencies until that option is chosen.
//
// The workload is the dedup stage's access pattern on real texts, not its code: per appeal an id-claim
// and a text-claim lookup, 2 buckets × 16 band lookups (BenchmarkStatePayloadPortal: a real text brings
// ≈ 13 new band values of its 16, so most lookups miss), up to 3 candidate records, and a batch write of
// 13 band fields, the record (99 B), the id and text claims. Half the traffic falls in one scope (the
// regional centre), the rest in 29 others. No WAL: the state is rebuilt from ClickHouse at a resume.
//
//	go test -run '^$' -bench PartitionState -benchtime 1x
//
// LSM_APPEALS (default 200,000), LSM_CACHE_MB (block cache, 64), LSM_MEMTABLE_MB (16), LSM_BLOOM=0 (no
// bloom filters) vary it.
package lsmbench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

const (
	numBands    = 16
	newBands    = 13
	recordBytes = 99
	batchSize   = 500
	scopes      = 30
	bucketSize  = 100_000 // appeals per time bucket: the horizon's worth at this benchmark's scale
)

func BenchmarkPartitionState(b *testing.B) {
	n := envInt("LSM_APPEALS", 200_000)
	opts := &pebble.Options{
		Cache:        pebble.NewCache(int64(envInt("LSM_CACHE_MB", 64)) << 20),
		MemTableSize: uint64(envInt("LSM_MEMTABLE_MB", 16)) << 20,
		DisableWAL:   true,
	}
	if os.Getenv("LSM_BLOOM") != "0" {
		opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10) // later levels inherit it
	}
	for range b.N {
		db, err := pebble.Open(b.TempDir(), opts)
		if err != nil {
			b.Fatal(err)
		}
		s := &state{db: db, rnd: rand.New(rand.NewPCG(1, 2))}
		began, cpu0 := time.Now(), processCPU()
		for i := 0; i < n; i += batchSize {
			if err := s.decideBatch(i, min(i+batchSize, n)); err != nil {
				b.Fatal(err)
			}
		}
		elapsed, used := time.Since(began), processCPU()-cpu0
		m := db.Metrics()
		b.ReportMetric(used.Seconds()*1e6/float64(n), "cpu-µs/appeal")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "appeals/s")
		b.ReportMetric(float64(s.gets)/float64(n), "gets/appeal")
		b.ReportMetric(float64(s.hits)/float64(s.bandGets), "band-hit-share")
		b.ReportMetric(float64(m.DiskSpaceUsage())/float64(n), "disk-B/appeal")
		b.ReportMetric(peakRSSMB(b), "peak-rss-MB")
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if s.hits == 0 {
			b.Fatal("no band lookup ever found an earlier appeal's claim: the workload is not the dedup stage's")
		}
	}
}

type state struct {
	db                   *pebble.DB
	rnd                  *rand.Rand
	recent               []claim // band claims to share with later texts
	gets, bandGets, hits int
	key                  []byte
}

type claim struct {
	scope, bucket uint32
	band          int
	v             uint32
}

// get looks key up as the dedup stage would and returns whether it was there.
func (s *state) get(key []byte) (value []byte, ok bool, err error) {
	s.gets++
	v, closer, err := s.db.Get(key)
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	value = append([]byte(nil), v...)
	return value, true, closer.Close()
}

func (s *state) decideBatch(from, to int) error {
	batch := s.db.NewBatch()
	defer batch.Close()
	record := make([]byte, recordBytes)
	for j := from; j < to; j++ {
		scope := uint32(s.rnd.IntN(scopes))
		if s.rnd.IntN(2) == 0 {
			scope = 0
		}
		bucket := uint32(j / bucketSize)
		var vals [numBands]uint32
		for band := range vals {
			vals[band] = s.rnd.Uint32()
		}
		for range numBands - newBands { // the values a text shares with an earlier one
			if len(s.recent) > 0 {
				c := s.recent[s.rnd.IntN(len(s.recent))]
				scope, vals[c.band] = c.scope, c.v
			}
		}
		id := strconv.Itoa(j)
		textKey := binary.BigEndian.AppendUint64([]byte{'t'}, s.rnd.Uint64())
		for _, k := range [][]byte{append([]byte{'i'}, id...), textKey} {
			if _, _, err := s.get(k); err != nil {
				return err
			}
		}
		candidates := 0
		for _, bk := range []uint32{bucket, bucket + 1} {
			for band, v := range vals {
				s.bandGets++
				holder, ok, err := s.get(s.bandKey(scope, bk, band, v))
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				s.hits++
				if candidates < 3 {
					candidates++
					if _, _, err := s.get(append([]byte{'r'}, holder...)); err != nil {
						return err
					}
				}
			}
		}
		member := binary.BigEndian.AppendUint64(nil, uint64(j))
		for band, v := range vals[:newBands] {
			if err := batch.Set(s.bandKey(scope, bucket, band, v), member, nil); err != nil {
				return err
			}
			c := claim{scope, bucket, band, v}
			if len(s.recent) < 4096 {
				s.recent = append(s.recent, c)
			} else {
				s.recent[s.rnd.IntN(len(s.recent))] = c
			}
		}
		for _, kv := range [][2][]byte{{append([]byte{'r'}, member...), record}, {append([]byte{'i'}, id...), record[:30]}, {textKey, record[:20]}} {
			if err := batch.Set(kv[0], kv[1], nil); err != nil {
				return err
			}
		}
	}
	return batch.Commit(pebble.NoSync)
}

func (s *state) bandKey(scope, bucket uint32, band int, v uint32) []byte {
	k := append(s.key[:0], 'b')
	k = binary.BigEndian.AppendUint32(k, scope)
	k = binary.BigEndian.AppendUint32(k, bucket)
	k = append(k, byte(band))
	s.key = binary.BigEndian.AppendUint32(k, v)
	return s.key
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// processCPU and peakRSSMB stand in for internal/testenv's CPUSince and benchpeer's vmHWM: importing
// the main module would bring all its dependencies into this one.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSSMB(b *testing.B) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
