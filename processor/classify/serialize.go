package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// modelMagic starts every model file; the last byte is the format version. Version 2 appends the
// stacker; version 1 files (no stacker, the fixed blend) are still read.
const (
	modelMagic   = "TKCLS\x02"
	modelMagicV1 = "TKCLS\x01"
)

// ErrBadModel marks a model file that is not one, is of another version, or is corrupt.
var ErrBadModel = errors.New("classify: bad model file")

// maxCount bounds every length read from a model file so a corrupt one fails cleanly instead of
// allocating without limit.
const maxCount = 1 << 26

// quantize rounds each feature's weights of each head to int8 steps of that row's largest magnitude, the
// precision the file keeps. Train applies it too, so a trained model and its reloaded file agree exactly.
func (m *Model) quantize() {
	if m.qw != nil {
		return
	}
	q, steps := m.quantizeRows()
	m.qw, m.qsteps = q, steps
}

func (m *Model) quantizeRows() (q []int8, steps []float32) {
	nf := len(m.scale)
	q = make([]int8, len(m.w))
	steps = make([]float32, nf*int(numHeads))
	for f := range nf {
		for h := range numHeads {
			row := m.w[f*m.width+m.offset[h] : f*m.width+m.offset[h]+len(m.names[h])]
			var mx float32
			for _, v := range row {
				mx = max(mx, float32(math.Abs(float64(v))))
			}
			step := mx / 127
			steps[f*int(numHeads)+int(h)] = step
			for c, v := range row {
				var k int8
				if step > 0 {
					k = int8(math.Round(float64(v / step)))
				}
				q[f*m.width+m.offset[h]+c] = k
				row[c] = float32(k) * step
			}
		}
	}
	return q, steps
}

type writer struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (w *writer) uvarint(v uint64) { w.w.Write(w.buf[:binary.PutUvarint(w.buf[:], v)]) }
func (w *writer) f32(v float32)    { binary.Write(w.w, binary.LittleEndian, v) }
func (w *writer) u64(v uint64)     { binary.Write(w.w, binary.LittleEndian, v) }
func (w *writer) str(s string)     { w.uvarint(uint64(len(s))); w.w.WriteString(s) }

// Write stores the model gzip-compressed. The bytes depend only on the model: the gzip header carries
// no name or time.
func (m *Model) Write(out io.Writer) error {
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		return err
	}
	w := &writer{w: bufio.NewWriter(zw)}
	w.w.WriteString(modelMagic)
	fc := m.feat
	for _, v := range []int{fc.WordNgrams, fc.CharMin, fc.CharMax, fc.MinDF, m.knnK} {
		w.uvarint(uint64(v))
	}
	for _, v := range []float32{fc.CharWeight, m.themeAlpha, m.knnWeight, m.knnPower} {
		w.f32(v)
	}
	for h := range numHeads {
		w.uvarint(uint64(len(m.names[h])))
		for _, n := range m.names[h] {
			w.str(n)
		}
	}
	w.uvarint(uint64(len(m.vocabHashes)))
	var prev uint64
	for _, h := range m.vocabHashes {
		w.uvarint(h - prev)
		prev = h
	}
	for _, s := range m.scale {
		w.f32(s)
	}
	w.uvarint(uint64(len(m.stems)))
	for i, s := range m.stemSurfaces() {
		w.u64(s)
		w.u64(m.stems[i])
	}
	m.quantize()
	q, steps := m.qw, m.qsteps
	for _, s := range steps {
		w.f32(s)
	}
	for _, v := range q {
		w.w.WriteByte(byte(v))
	}
	for _, b := range m.bias {
		w.f32(b)
	}
	for _, c := range m.themeCat {
		w.uvarint(uint64(c))
	}
	ix := &m.knn
	w.uvarint(uint64(ix.n))
	w.uvarint(uint64(len(ix.doc)))
	for f := range len(m.scale) {
		w.uvarint(uint64(ix.start[f+1] - ix.start[f]))
	}
	for p := range ix.doc {
		w.uvarint(uint64(ix.doc[p]))
		w.f32(ix.val[p])
	}
	for h := range numHeads {
		for _, l := range ix.label[h] {
			w.uvarint(uint64(l))
		}
	}
	if st := m.stack; st == nil {
		w.uvarint(0)
	} else {
		w.uvarint(1)
		w.f32(st.knnWeight)
		for _, v := range st.bias {
			w.f32(v)
		}
		for _, v := range st.w {
			w.f32(v)
		}
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("classify: write model: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("classify: write model: %w", err)
	}
	return nil
}

// stemSurfaces lists the surface hashes of the stem table in stems' order.
func (m *Model) stemSurfaces() []uint64 {
	out := make([]uint64, len(m.stems))
	for i, k := range m.stemIdx.keys {
		if k != 0 {
			out[m.stemIdx.vals[i]] = k
		}
	}
	return out
}

// WriteFile writes the model to path.
func (m *Model) WriteFile(path string) error {
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	return nil
}

type reader struct {
	r   *bufio.Reader
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(r.r)
	r.fail(err)
	return v
}

func (r *reader) count(limit uint64) int {
	v := r.uvarint()
	if v > limit {
		r.fail(fmt.Errorf("count %d exceeds %d", v, limit))
		return 0
	}
	return int(v)
}

func (r *reader) f32() float32 {
	var v float32
	if r.err == nil {
		r.fail(binary.Read(r.r, binary.LittleEndian, &v))
	}
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		r.fail(errors.New("non-finite number"))
	}
	return v
}

func (r *reader) u64() uint64 {
	var v uint64
	if r.err == nil {
		r.fail(binary.Read(r.r, binary.LittleEndian, &v))
	}
	return v
}

func (r *reader) str() string {
	n := r.count(1 << 12)
	b := make([]byte, n)
	if r.err == nil {
		_, err := io.ReadFull(r.r, b)
		r.fail(err)
	}
	return string(b)
}

// Read loads a model written by Write. A truncated, corrupt or foreign file gives an error wrapping
// ErrBadModel, never a panic.
func Read(in io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	defer zr.Close()
	r := &reader{r: bufio.NewReader(zr)}
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(r.r, magic); err != nil || string(magic) != modelMagic && string(magic) != modelMagicV1 {
		return nil, fmt.Errorf("%w: not a teplokarta classifier model (or another version)", ErrBadModel)
	}
	m := &Model{}
	fc := &m.feat
	fc.WordNgrams, fc.CharMin, fc.CharMax, fc.MinDF, m.knnK = r.count(8), r.count(8), r.count(8), r.count(maxCount), r.count(1<<10)
	fc.CharWeight, m.themeAlpha, m.knnWeight, m.knnPower = r.f32(), r.f32(), r.f32(), r.f32()
	for h := range numHeads {
		n := r.count(1 << 16)
		if r.err == nil && n == 0 {
			r.fail(fmt.Errorf("head %s has no classes", h))
		}
		m.names[h] = make([]string, n)
		for i := range n {
			m.names[h][i] = r.str()
		}
		m.offset[h] = m.width
		m.width += n
	}
	nf := r.count(maxCount / 64)
	m.vocabHashes = make([]uint64, nf)
	m.vocab = newHashTable(nf)
	var prev uint64
	for i := range nf {
		prev += r.uvarint()
		m.vocabHashes[i] = prev
		if r.err == nil {
			m.vocab.put(nonZero(prev), int32(i))
		}
	}
	m.scale = make([]float32, nf)
	for i := range m.scale {
		m.scale[i] = r.f32()
	}
	ns := r.count(maxCount)
	m.stemIdx = newHashTable(ns)
	m.stems = make([]uint64, ns)
	for i := range ns {
		s := r.u64()
		m.stems[i] = r.u64()
		if r.err == nil {
			m.stemIdx.put(nonZero(s), int32(i))
		}
	}
	if r.err == nil && uint64(nf)*uint64(m.width) > maxCount*4 {
		r.fail(fmt.Errorf("%d features × %d classes is too large", nf, m.width))
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, r.err)
	}
	steps := make([]float32, nf*int(numHeads))
	for i := range steps {
		steps[i] = r.f32()
	}
	m.w = make([]float32, nf*m.width)
	q := make([]byte, len(m.w))
	if r.err == nil {
		_, err := io.ReadFull(r.r, q)
		r.fail(err)
	}
	m.qsteps = steps
	m.qw = make([]int8, len(q))
	for f := range nf {
		for h := range numHeads {
			step := steps[f*int(numHeads)+int(h)]
			for c := range len(m.names[h]) {
				i := f*m.width + m.offset[h] + c
				m.qw[i] = int8(q[i])
				m.w[i] = float32(int8(q[i])) * step
			}
		}
	}
	m.bias = make([]float32, m.width)
	for i := range m.bias {
		m.bias[i] = r.f32()
	}
	m.themeCat = make([]int32, len(m.names[HeadTheme]))
	for i := range m.themeCat {
		m.themeCat[i] = int32(r.count(uint64(len(m.names[HeadCategory]) - 1)))
	}
	ix := &m.knn
	ix.n = r.count(maxCount)
	total := r.count(maxCount)
	ix.start = make([]int32, nf+1)
	for f := range nf {
		ix.start[f+1] = ix.start[f] + int32(r.count(uint64(ix.n)))
	}
	if r.err == nil && int(ix.start[nf]) != total {
		r.fail(fmt.Errorf("posting lists hold %d entries, header says %d", ix.start[nf], total))
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, r.err)
	}
	ix.doc = make([]int32, total)
	ix.val = make([]float32, total)
	for p := range total {
		ix.doc[p] = int32(r.count(uint64(max(ix.n-1, 0))))
		ix.val[p] = r.f32()
	}
	for h := range numHeads {
		ix.label[h] = make([]int32, ix.n)
		for d := range ix.n {
			ix.label[h][d] = int32(r.count(uint64(len(m.names[h]) - 1)))
		}
	}
	if string(magic) == modelMagic {
		switch r.count(1) {
		case 1:
			st := &stacker{knnWeight: r.f32(), bias: make([]float32, m.width)}
			for i := range st.bias {
				st.bias[i] = r.f32()
			}
			if r.err == nil {
				st.w = make([]float32, 2*m.width*m.width)
				for i := range st.w {
					st.w[i] = r.f32()
				}
			}
			m.stack = st
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, r.err)
	}
	if _, err := r.r.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrBadModel)
	}
	if err := fc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	return m, nil
}

// ReadFile loads a model from path.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	defer f.Close()
	return Read(bufio.NewReader(f))
}
