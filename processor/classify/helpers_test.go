package classify

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"testing"
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
