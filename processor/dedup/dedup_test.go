package dedup

import (
	"fmt"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

func TestExactRetry(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		tests := []struct {
			name      string
			sameBatch bool
		}{{"separate batches", false}, {"one batch", true}}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d := newDeduper(t)
				ctx := testCtx(t)
				text := "Во дворе дома 5 по улице Циолковского третий день стоит огромная лужа, не пройти к подъезду."
				first := appealAt(model.SourceVK, "-1001_77", text, oktmoRyazan, t0, 0, 10)
				retry := appealAt(model.SourceVK, "-1001_77", text, oktmoRyazan, t0, 0, 11) // the client sent it again
				var got []Decision
				if tc.sameBatch {
					got = decide(t, ctx, d, first, retry)
				} else {
					got = append(decide(t, ctx, d, first), decide(t, ctx, d, retry)...)
				}
				want := []Decision{{Incident, first.ID}, {ExactDuplicate, ""}}
				if got[0] != want[0] || got[1] != want[1] {
					t.Fatalf("got %v, want %v", got, want)
				}
				if first.Fingerprint == 0 || first.Fingerprint != retry.Fingerprint {
					t.Fatalf("fingerprints %x %x: want equal and set", first.Fingerprint, retry.Fingerprint)
				}
			})
		}
	})
}

func TestCrossSourceSameText(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		tests := []struct{ name, first, second string }{
			{"verbatim", "Не вывозят мусор с площадки у дома 14 по улице Белякова, контейнеры переполнены, крысы.",
				"Не вывозят мусор с площадки у дома 14 по улице Белякова, контейнеры переполнены, крысы."},
			{"reformatted repost", "Не вывозят мусор с площадки у дома 14 по улице Белякова, контейнеры переполнены, крысы.",
				"НЕ ВЫВОЗЯТ МУСОР с площадки у д. 14, ул. Белякова!!! Контейнеры переполнены... крысы"},
			{"repost with a comment", "Не вывозят мусор с площадки у дома 14 по улице Белякова, контейнеры переполнены, крысы.",
				"Репост. Соседи, поддержите! Не вывозят мусор с площадки у дома 14 по улице Белякова, контейнеры переполнены, крысы. Сколько можно ждать?"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d := newDeduper(t)
				ctx := testCtx(t)
				vk := appealAt(model.SourceVK, "-5_100", tc.first, oktmoRyazan, t0, 0, 1)
				pos := appealAt(model.SourcePOS, "POS-2025-8812", tc.second, oktmoRyazan, t0.Add(3*time.Hour), 2, 40)
				got := append(decide(t, ctx, d, vk), decide(t, ctx, d, pos)...)
				if want := (Decision{Voice, vk.ID}); got[0] != (Decision{Incident, vk.ID}) || got[1] != want {
					t.Fatalf("got %v, want [incident→%s %v]", got, vk.ID, want)
				}
			})
		}
	})
}

func TestBurstPipeNeighbours(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		sources := []string{model.SourceVK, model.SourcePOS, model.SourceNashDom, model.Source112}
		tests := []struct {
			name      string
			batchSize int
		}{{"one batch", len(burstPipe)}, {"one appeal per batch", 1}, {"batches of three", 3}}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d := newDeduper(t)
				ctx := testCtx(t)
				var all []*model.Appeal
				for i, text := range burstPipe {
					src := sources[i%len(sources)]
					all = append(all, appealAt(src, fmt.Sprintf("n%d", i), text, oktmoRyazan, t0.Add(time.Duration(i)*7*time.Minute), i%3, int64(100+i)))
				}
				var got []Decision
				for i := 0; i < len(all); i += tc.batchSize {
					got = append(got, decide(t, ctx, d, all[i:min(i+tc.batchSize, len(all))]...)...)
				}
				incident := all[0].ID
				for i, g := range got {
					want := Decision{Voice, incident}
					if i == 0 {
						want.Kind = Incident
					}
					if g != want {
						t.Errorf("appeal %d %q: got %v, want %v", i, burstPipe[i], g, want)
					}
				}
			})
		}
	})
}

func TestDifferentProblemsSameStreet(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		d := newDeduper(t)
		ctx := testCtx(t)
		texts := append([]string{burstPipe[0]}, sameStreet...)
		var batch []*model.Appeal
		for i, text := range texts {
			batch = append(batch, appealAt(model.SourceVK, fmt.Sprintf("s%d", i), text, oktmoRyazan, t0.Add(time.Duration(i)*time.Hour), 0, int64(i)))
		}
		got := decide(t, ctx, d, batch...)
		for i, g := range got {
			if g != (Decision{Incident, batch[i].ID}) {
				t.Errorf("%q: got %v, want its own incident", texts[i], g)
			}
		}
	})
}

func TestScopeAndHorizon(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		text := "На остановке «Площадь Победы» третий день не работает электронное табло, люди не знают когда автобус."
		tests := []struct {
			name           string
			oktmo1, oktmo2 string
			delay          time.Duration // event time of the second minus the first
			wantVoice      bool
		}{
			{"same municipality, same day", oktmoRyazan, oktmoRyazan, 5 * time.Hour, true},
			{"other municipality", oktmoRyazan, oktmoSasovo, time.Hour, false},
			{"unresolved vs resolved", oktmoRyazan, "", time.Hour, false},
			{"both unresolved in one region", "", "", time.Hour, true},
			{"just inside the horizon", oktmoRyazan, oktmoRyazan, 47 * time.Hour, true},
			{"outside the horizon", oktmoRyazan, oktmoRyazan, 72 * time.Hour, false},
			{"written earlier, arrives later", oktmoRyazan, oktmoRyazan, -20 * time.Hour, true},
			{"far earlier", oktmoRyazan, oktmoRyazan, -50 * time.Hour, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d := newDeduper(t)
				ctx := testCtx(t)
				a := appealAt(model.SourceVK, "a", text, tc.oktmo1, t0, 0, 1)
				b := appealAt(model.SourceNashDom, "b", text, tc.oktmo2, t0.Add(tc.delay), 0, 1)
				got := append(decide(t, ctx, d, a), decide(t, ctx, d, b)...)
				want := Decision{Incident, b.ID}
				if tc.wantVoice {
					want = Decision{Voice, a.ID}
				}
				if got[0] != (Decision{Incident, a.ID}) || got[1] != want {
					t.Fatalf("got %v, want [incident→a %v]", got, want)
				}
			})
		}
	})
}

func TestShortTextsAreNotMatched(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		d := newDeduper(t)
		ctx := testCtx(t)
		a := appealAt(model.SourceVK, "1", "Нет воды!", oktmoRyazan, t0, 0, 1)
		b := appealAt(model.Source112, "2", "нет воды", oktmoRyazan, t0.Add(time.Minute), 0, 1)
		got := decide(t, ctx, d, a, b)
		if got[0] != (Decision{Incident, a.ID}) || got[1] != (Decision{Incident, b.ID}) {
			t.Fatalf("got %v, want two incidents", got)
		}
		if a.Fingerprint != b.Fingerprint {
			t.Fatalf("fingerprints differ for the same words: %x %x", a.Fingerprint, b.Fingerprint)
		}
	})
}
