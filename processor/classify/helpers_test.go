package classify

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func mustTaxonomy(t testing.TB) *Taxonomy {
	t.Helper()
	tax, err := LoadTaxonomy("")
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

// portalExamples reads the «Наш дом» portal's labeled texts from the shared data; a test without them
// is skipped.
func portalExamples(t testing.TB) []Example {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv"))
	if err != nil {
		t.Skip("shared training data not present:", err)
	}
	defer f.Close()
	ex, _, err := ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}
