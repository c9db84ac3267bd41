package dedup

import (
	"math/rand/v2"
	"testing"
)

// TestBandTableMatchesMap claims random bands (many repeated, hashes from a narrow range so that probes
// collide, every band index) and checks each claim's answer and every lookup against a Go map.
func TestBandTableMatchesMap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims int
		hashes uint32 // hashes drawn from [0, hashes)
	}{
		{"empty", 0, 1},
		{"one", 1, 1},
		{"dense repeats", 5_000, 64},
		{"sparse", 50_000, 1 << 31},
		{"full range", 20_000, ^uint32(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.claims)))
			var tab bandTable
			want := map[[2]uint32]uint32{}
			for i := range tc.claims {
				b, h := r.IntN(numBands), r.Uint32N(tc.hashes)
				if i%3 == 0 {
					h = ^uint32(0) - h // the top of the range too
				}
				_, held := want[[2]uint32{uint32(b), h}]
				if got := tab.claim(b, h, uint32(i)); got == held {
					t.Fatalf("claim(%d, %d) = %v with the band held: %v", b, h, got, held)
				}
				if !held {
					want[[2]uint32{uint32(b), h}] = uint32(i)
				}
			}
			if tab.len() != len(want) {
				t.Fatalf("len = %d, want %d", tab.len(), len(want))
			}
			if len(want) > 0 && 2*tab.len() > len(tab.slots) {
				t.Fatalf("%d bands in %d slots: more than half full", tab.len(), len(tab.slots))
			}
			for k, m := range want {
				if got, ok := tab.get(int(k[0]), k[1]); !ok || got != m {
					t.Fatalf("get(%d, %d) = %d, %v; want %d", k[0], k[1], got, ok, m)
				}
			}
			// getAll answers as the map does for a mix of held and absent bands.
			var held [numBands][]uint32 // per band index, the hashes held
			for k := range want {
				held[k[0]] = append(held[k[0]], k[1])
			}
			for range 2_000 {
				var bands, got [numBands]uint32
				for b := range bands {
					bands[b] = r.Uint32()
					if hs := held[b]; len(hs) > 0 && r.IntN(2) == 0 {
						bands[b] = hs[r.IntN(len(hs))]
					}
				}
				tab.getAll(&bands, &got)
				for b, h := range bands {
					m, ok := want[[2]uint32{uint32(b), h}]
					if !ok {
						m = noMember
					}
					if got[b] != m {
						t.Fatalf("getAll: band %d hash %d = %d, want %d", b, h, got[b], m)
					}
				}
			}
			for range 10_000 { // lookups of absent bands
				b, h := r.IntN(numBands), r.Uint32()
				if _, held := want[[2]uint32{uint32(b), h}]; held {
					continue
				}
				if got, ok := tab.get(b, h); ok {
					t.Fatalf("get(%d, %d) = %d for an absent band", b, h, got)
				}
			}
		})
	}
}

// TestBandTableMemberRange checks the members a slot can hold: 0 and maxBandMember round-trip, a larger
// index is refused and leaves the band free.
func TestBandTableMemberRange(t *testing.T) {
	var tab bandTable
	for b, m := range []uint32{0, 1, maxBandMember} {
		if !tab.claim(b, 7, m) {
			t.Fatalf("claim of member %d refused", m)
		}
		if got, ok := tab.get(b, 7); !ok || got != m {
			t.Fatalf("get = %d, %v; want %d", got, ok, m)
		}
	}
	if tab.claim(numBands-1, 7, maxBandMember+1) {
		t.Fatal("member beyond 28 bits claimed a band")
	}
	if _, ok := tab.get(numBands-1, 7); ok {
		t.Fatal("a refused claim holds the band")
	}
}

// get is one band's lookup, probe by probe: the reference getAll is checked against.
func (t *bandTable) get(band int, h uint32) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	key, mask := bandSlot(band, h), len(t.slots)-1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^memberMask == key {
			return uint32(s&memberMask) - 1, true
		}
	}
}
