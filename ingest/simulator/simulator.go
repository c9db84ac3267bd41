// Package simulator produces realistic appeals of the four source systems in each system's own raw format
// (VK Callback events, «Наш дом» records, 112 cards, ПОС messages) for the 29 municipalities of Ryazan
// oblast, weighted by size, with a daily and weekly rhythm, exact re-sends (client retries), the same
// problem filed through another channel, bursts (a district without water), and late, out-of-order events.
// It is deterministic for a seed and keeps its own ground truth.
package simulator

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Config of the generator.
type Config struct {
	Seed         uint64
	Start        time.Time // arrival time of the first appeal
	Rate         float64   // mean appeals per second before the rhythm; default 20
	Rhythm       bool      // modulate the rate by hour of day and day of week; default true
	ExactDupRate float64   // share re-sent byte for byte (client retries); default 0.06
	CrossDupRate float64   // share also filed through another source with the same text; default 0.07
	LateRate     float64   // share arriving 5–90 minutes after it was written; default 0.03
	BurstsPerDay float64   // "district without water" bursts per simulated day; default 4
	BurstSize    int       // appeals per burst; default 12
	VKGeoShare   float64   // share of VK posts carrying coordinates; default 0.6
	// SameProblem is how long a problem stays "the same" in the ground truth: a new appeal about the same
	// problem phrase at the same place within it is recorded as a burst-like voice (near-duplicate
	// detection may or may not merge it, both are right). Default 48h, the processor's dedup horizon.
	SameProblem time.Duration
	// FirstID: each source's ids run from FirstID+1 on (default 0). The processor remembers ids for 30
	// days, so a stream sent into a stack that already holds another run's appeals must not start its
	// ids where that run started them: its appeals would all be taken for retries of the earlier ones
	// and nothing new would be stored until its ids passed theirs (`teplokarta run` sets it per run).
	FirstID int64
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Seed: 1, Rate: 20, Rhythm: true, ExactDupRate: 0.06, CrossDupRate: 0.07, LateRate: 0.03,
		BurstsPerDay: 4, BurstSize: 12, VKGeoShare: 0.6, SameProblem: 48 * time.Hour}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Rate <= 0 {
		errs = append(errs, errors.New("simulator: rate must be positive"))
	}
	if c.FirstID < 0 {
		errs = append(errs, errors.New("simulator: first id must not be negative"))
	}
	for name, v := range map[string]float64{"exact-dup": c.ExactDupRate, "cross-dup": c.CrossDupRate, "late": c.LateRate, "vk-geo": c.VKGeoShare} {
		if v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("simulator: %s share %v outside [0,1]", name, v))
		}
	}
	if c.BurstsPerDay < 0 || (c.BurstsPerDay > 0 && c.BurstSize < 2) {
		errs = append(errs, errors.New("simulator: bursts need a size ≥ 2"))
	}
	if c.Start.IsZero() {
		errs = append(errs, errors.New("simulator: start time is required"))
	}
	return errors.Join(errs...)
}

// Kind says what a message is in the ground truth.
type Kind uint8

// Message kinds.
const (
	KindIncident  Kind = iota + 1 // a new problem
	KindVoice                     // the same problem again: another channel (same text) or a burst neighbour
	KindRetry                     // the same message re-sent: not a new appeal at all
	KindNearVoice                 // a burst neighbour: a voice if near-duplicate detection recognises it
)

// Message is one raw message as the source system sends it.
type Message struct {
	Source      string
	SourceID    string
	Payload     []byte
	ContentType string
	Arrival     time.Time // when ingest receives it
	EventTime   time.Time // when the citizen wrote it
	OKTMO       string    // where it is (what the processor must resolve)
	Category    string
	Kind        Kind
	CopyOf      string // for a same-text copy: the appeal id of the original
}

// AppealID is the processor's id of the message.
func (m Message) AppealID() string { return model.AppealID(m.Source, m.SourceID) }

// Generator yields messages in arrival order.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	places  []place
	cumW    []float64
	topicW  []float64
	geo     *geo.Gazetteer
	clock   time.Time // arrival time of the next primary appeal
	pending pendingHeap
	recent  map[string]time.Time // problem identity → latest event time, for SameProblem
	seq     int64
	seqs    map[string]int64
}

// New builds a generator over the default region's gazetteer.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), places: ryazanPlaces,
		geo: geo.Default(), clock: cfg.Start.UTC(), seqs: map[string]int64{}, recent: map[string]time.Time{}}
	sum := 0.0
	for _, p := range g.places {
		sum += p.Weight
		g.cumW = append(g.cumW, sum)
	}
	sum = 0
	for _, t := range topics {
		sum += t.Weight
		g.topicW = append(g.topicW, sum)
	}
	return g, nil
}

// rhythm is the relative rate at a moment: people write in the morning and evening, less at night and
// on Sundays.
func rhythm(t time.Time) float64 {
	msk := t.In(moscow)
	h := float64(msk.Hour()) + float64(msk.Minute())/60
	day := 0.25 + 1.1*math.Exp(-math.Pow(h-10, 2)/8) + 0.9*math.Exp(-math.Pow(h-20, 2)/6) + 0.5*math.Exp(-math.Pow(h-15, 2)/10)
	week := []float64{0.75, 1.2, 1.1, 1.05, 1.0, 0.95, 0.8}[msk.Weekday()]
	return day * week
}

var moscow = time.FixedZone("MSK", 3*3600)

// Next returns the next message in arrival order.
func (g *Generator) Next() Message {
	for len(g.pending) == 0 || g.pending[0].Arrival.After(g.clock) {
		g.primary()
	}
	return heap.Pop(&g.pending).(Message)
}

// primary creates the next new appeal at the current clock, schedules its echoes, and advances the clock.
func (g *Generator) primary() {
	now := g.clock
	rate := g.cfg.Rate
	if g.cfg.Rhythm {
		rate *= rhythm(now)
	}
	g.clock = now.Add(time.Duration(g.rng.ExpFloat64() / rate * float64(time.Second)))
	if g.cfg.BurstsPerDay > 0 && g.rng.Float64() < g.cfg.BurstsPerDay/86400/rate {
		g.burst(now)
		return
	}
	p := g.pickPlace()
	t := g.pickTopic()
	event := now.Add(-time.Duration(g.rng.IntN(60)) * time.Second)
	if g.rng.Float64() < g.cfg.LateRate {
		event = now.Add(-time.Duration(5+g.rng.IntN(85)) * time.Minute)
	}
	text, problem := g.text(p, t, -1)
	kind := KindIncident
	if last, ok := g.recent[problem]; ok && event.Sub(last).Abs() < g.cfg.SameProblem {
		kind = KindNearVoice
	}
	if last := g.recent[problem]; event.After(last) {
		g.recent[problem] = event
	}
	g.forget(now)
	src := g.pickSource(t)
	m := g.message(src, p, t, text, event, now, kind)
	g.push(m)
	if g.rng.Float64() < g.cfg.ExactDupRate {
		r := m
		r.Kind = KindRetry
		r.Arrival = now.Add(time.Duration(1+g.rng.IntN(120)) * time.Second)
		g.push(r)
	}
	if g.rng.Float64() < g.cfg.CrossDupRate {
		other := g.otherSource(src, t)
		at := now.Add(time.Duration(1+g.rng.IntN(30)) * time.Minute)
		c := g.message(other, p, t, text, at.Add(-time.Duration(g.rng.IntN(60))*time.Second), at, KindVoice)
		c.CopyOf = m.AppealID()
		g.push(c)
	}
}

// burst: one outage, many neighbours writing about it within half an hour, in their own words.
func (g *Generator) burst(now time.Time) {
	p := g.pickPlace()
	t := topics[burstTopic]
	house := 1 + g.rng.IntN(120)
	for i := 0; i < g.cfg.BurstSize; i++ {
		at := now.Add(time.Duration(g.rng.IntN(30*60)) * time.Second)
		if i == 0 {
			at = now
		}
		kind := KindNearVoice
		if i == 0 {
			kind = KindIncident
		}
		text, _ := g.text(p, t, house)
		g.push(g.message(g.pickSource(t), p, t, text, at.Add(-time.Duration(g.rng.IntN(60))*time.Second), at, kind))
	}
}

func (g *Generator) push(m Message) { heap.Push(&g.pending, m) }

func (g *Generator) pickPlace() place {
	x := g.rng.Float64() * g.cumW[len(g.cumW)-1]
	for i, c := range g.cumW {
		if x < c {
			return g.places[i]
		}
	}
	return g.places[len(g.places)-1]
}

func (g *Generator) pickTopic() topic {
	x := g.rng.Float64() * g.topicW[len(g.topicW)-1]
	for i, c := range g.topicW {
		if x < c {
			return topics[i]
		}
	}
	return topics[len(topics)-1]
}

func (g *Generator) pickSource(t topic) string {
	x := g.rng.Float64()
	switch {
	case x < 0.35:
		return model.SourceVK
	case x < 0.60:
		return model.SourceNashDom
	case x < 0.75 && t.Type112 != "":
		return model.Source112
	default:
		return model.SourcePOS
	}
}

func (g *Generator) otherSource(not string, t topic) string {
	for {
		// Copies come through the text channels; a 112 card rewords the problem as an incident type.
		if s := g.pickSource(t); s != not && s != model.Source112 {
			return s
		}
	}
}

func (g *Generator) pick(ss []string) string { return ss[g.rng.IntN(len(ss))] }

// forget drops problem identities older than the horizon, bounding memory on long runs.
func (g *Generator) forget(now time.Time) {
	if len(g.recent) < 4096 {
		return
	}
	for k, t := range g.recent {
		if now.Sub(t) > g.cfg.SameProblem+2*time.Hour {
			delete(g.recent, k)
		}
	}
}

// text writes one appeal and names its problem: its theme at its place, house numbers aside
// (neighbours at different houses of one street write about one outage). house < 0 picks a number.
func (g *Generator) text(p place, t topic, house int) (string, string) {
	if house < 0 {
		house = 1 + g.rng.IntN(120)
	}
	var where string
	switch {
	case p.Genitive == "" && p.OKTMO == "61701000":
		if g.rng.IntN(2) == 0 {
			where = "в Рязани, " + g.pick(ryazanStreets) + ","
		} else {
			where = "в Рязани " + g.pick(ryazanAreas)
		}
	case p.Genitive == "" || g.rng.IntN(10) < 6:
		where = p.Locative
	default:
		where = "в селе " + g.pick(p.Villages) + " " + p.Genitive
	}
	phrase := g.pick(t.Problems)
	s := strings.NewReplacer("{где}", where, "{дом}", strconv.Itoa(house)).Replace(phrase)
	parts := []string{capitalize(s) + ".", g.pick(t.Details)}
	for i := g.rng.IntN(3); i > 0; i-- {
		parts = append(parts, strings.NewReplacer("{n}", strconv.Itoa(2+g.rng.IntN(40)), "{m}", strconv.Itoa(2+g.rng.IntN(8))).Replace(g.pick(contexts)))
	}
	parts = append(parts, g.pick(pleas))
	return strings.TrimSpace(strings.Join(parts, " ")), p.OKTMO + "|" + where + "|" + t.Theme
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

func (g *Generator) nextID(source string) int64 {
	g.seqs[source]++
	return g.cfg.FirstID + g.seqs[source]
}

// pendingHeap orders scheduled messages by arrival time, then by insertion, so output is deterministic.
type pendingHeap []Message

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if !h[i].Arrival.Equal(h[j].Arrival) {
		return h[i].Arrival.Before(h[j].Arrival)
	}
	return h[i].SourceID+h[i].Source < h[j].SourceID+h[j].Source
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(Message)) }
func (h *pendingHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	*h = old[:len(old)-1]
	return m
}
