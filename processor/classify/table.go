package classify

// hashTable maps a non-zero 64-bit hash to a 32-bit value with open addressing. It is built once and then
// only read, so concurrent lookups need no lock, and it beats a Go map by several times on this hot path.
type hashTable struct {
	keys []uint64
	vals []int32
	mask uint64
}

func newHashTable(n int) hashTable {
	size := 16
	for size < n*2 {
		size <<= 1
	}
	return hashTable{keys: make([]uint64, size), vals: make([]int32, size), mask: uint64(size - 1)}
}

// put inserts or overwrites; key must be non-zero.
func (t *hashTable) put(key uint64, val int32) {
	for i := mix(key) & t.mask; ; i = (i + 1) & t.mask {
		if t.keys[i] == 0 || t.keys[i] == key {
			t.keys[i], t.vals[i] = key, val
			return
		}
	}
}

func (t *hashTable) get(key uint64) (int32, bool) {
	if len(t.keys) == 0 {
		return 0, false
	}
	for i := mix(key) & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case key:
			return t.vals[i], true
		case 0:
			return 0, false
		}
	}
}

// mix spreads FNV's weak low bits before masking.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}
