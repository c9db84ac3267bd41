package dedup

// bandTable maps a bucket's bands (band index, band hash) to the member that claimed each first. It
// replaced a map[uint64]uint32: a band lookup is the in-process deduper's commonest memory access
// (numBands per bucket per appeal, mostly misses), and one slot of 8 bytes holding key and value costs one
// cache line where Go's map reads a control word and then a 16-byte slot. Entries are never deleted: a
// bucket expires whole.
type bandTable struct {
	slots []uint64 // hash<<32 | band<<28 | member+1; 0 is empty
	n     int
	shift uint8 // 64 − log2(len(slots))
}

// maxBandMember is the largest member index a slot holds (28 bits, less the empty slot's 0). A bucket is
// one municipality's appeals of one bucket width; it holds nowhere near 2²⁸ members.
const maxBandMember = 1<<28 - 2

// memberMask selects a slot's member+1; the bits above it are the band's key (bandSlot).
const memberMask = 1<<28 - 1

func bandSlot(band int, h uint32) uint64 { return uint64(h)<<32 | uint64(band)<<28 }

// home is the slot a band's probe starts from (Fibonacci hashing of its key).
func (t *bandTable) home(key uint64) int {
	return int((key >> 28) * 0x9e3779b97f4a7c15 >> t.shift)
}

// getAll looks up all of an appeal's bands: members[b] is the holder of band b, or noMember. The first
// slot of every band is loaded before any is examined, so the cache misses of a large table overlap
// instead of following one another (get's probe branches on each load).
func (t *bandTable) getAll(bands *[numBands]uint32, members *[numBands]uint32) {
	if t.n == 0 {
		for b := range members {
			members[b] = noMember
		}
		return
	}
	var first [numBands]uint64
	var at [numBands]int
	for b, h := range bands {
		at[b] = t.home(bandSlot(b, h))
		first[b] = t.slots[at[b]]
	}
	mask := len(t.slots) - 1
	for b, h := range bands {
		key, s, i := bandSlot(b, h), first[b], at[b]
		for {
			if s == 0 {
				members[b] = noMember
				break
			}
			if s&^memberMask == key {
				members[b] = uint32(s&memberMask) - 1
				break
			}
			i = (i + 1) & mask
			s = t.slots[i]
		}
	}
}

// noMember is getAll's answer for a band no member holds.
const noMember = ^uint32(0)

// claim records member as the band's holder unless the band is held already. It reports whether it did.
func (t *bandTable) claim(band int, h uint32, member uint32) bool {
	if member > maxBandMember {
		return false // unreachable in practice; the band then stays with its earlier holders
	}
	if (t.n+1)*2 > len(t.slots) { // at most half full: a miss probes about two slots
		t.grow()
	}
	key, mask := bandSlot(band, h), len(t.slots)-1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = key | uint64(member+1)
			t.n++
			return true
		}
		if s&^memberMask == key {
			return false
		}
	}
}

func (t *bandTable) grow() {
	old := t.slots
	size := max(2*len(old), 16)
	t.slots, t.shift = make([]uint64, size), uint8(64-log2(size))
	mask := size - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := t.home(s &^ memberMask)
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// len is the number of bands held.
func (t *bandTable) len() int { return t.n }

// bytes is the table's memory.
func (t *bandTable) bytes() int { return 8 * len(t.slots) }

func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}
