package dedup

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// A replay meets a recurring text out of order: the same complaint written again 49 h later (outside the
// horizon, but in the same LSH bucket) is decided first and holds the text key and every band. Two
// copies of the earlier report, decided after it, must still end up in one incident.
func TestStaleTextClaimDoesNotSplitCopies(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		d := newDeduper(t)
		ctx := testCtx(t)
		const text = "В Рязани в Канищеве нет холодной воды с самого утра. Дети и пожилые без воды. Спасибо."
		orig := t0.Add(-60 * time.Hour)
		later := appealAt(model.SourceNashDom, "later", text, oktmoRyazan, orig.Add(49*time.Hour), 0, 1)
		o := appealAt(model.SourceVK, "o", text, oktmoRyazan, orig, 1, 1)
		c := appealAt(model.SourcePOS, "c", text, oktmoRyazan, orig.Add(10*time.Minute), 2, 1)
		if d.bucketKey(o.Region, o.OKTMO, floorDiv(o.EventTime.Unix(), d.bucketSeconds())) !=
			d.bucketKey(later.Region, later.OKTMO, floorDiv(later.EventTime.Unix(), d.bucketSeconds())) {
			t.Fatal("test setup: the recurring text must share the LSH bucket of the original")
		}
		if got := decide(t, ctx, d, later); got[0] != (Decision{Incident, later.ID}) {
			t.Fatalf("later text: %v", got[0])
		}
		if got := decide(t, ctx, d, o); got[0] != (Decision{Incident, o.ID}) {
			t.Fatalf("original: %v, want its own incident (the later text is outside the horizon)", got[0])
		}
		if got := decide(t, ctx, d, c); got[0] != (Decision{Voice, o.ID}) {
			t.Fatalf("copy through another channel: %v, want a voice of %s", got[0], o.ID)
		}
	})
}

// A 112 card prefixes the incident type; the same report through the portal or VK carries only the
// citizen's words. The body's text key makes the copy follow the card even where the similarity index
// cannot help (here a recurring text outside the horizon holds every band of the body).
func TestCopyOfA112CardFollowsIt(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		const body = "В Рязани, улица Новоселов, из крана течёт ржавая вода. В управляющей компании трубку не берут. Фото прилагаю."
		for _, order := range []string{"card first", "copy first"} {
			t.Run(order, func(t *testing.T) {
				d := newDeduper(t)
				ctx := testCtx(t)
				orig := t0.Add(-60 * time.Hour)
				later := appealAt(model.SourceVK, "later", body, oktmoRyazan, orig.Add(49*time.Hour), 0, 1)
				card := appealAt(model.Source112, "card", "Отключение  воды. "+body, oktmoRyazan, orig, 1, 1)
				card.Hints.Lead = "Отключение воды. "
				copyOf := appealAt(model.SourceNashDom, "copy", body, oktmoRyazan, orig.Add(5*time.Minute), 2, 1)
				decide(t, ctx, d, later)
				first, second := card, copyOf
				if order == "copy first" {
					first, second = copyOf, card
				}
				decide(t, ctx, d, first)
				if got := decide(t, ctx, d, second); got[0] != (Decision{Voice, first.ID}) {
					t.Fatalf("%s: %v, want a voice of %s", second.ID, got[0], first.ID)
				}
			})
		}
	})
}
