package pipeline

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
)

func TestDeadLetterFitsOneRecordBatch(t *testing.T) {
	for _, n := range []int{10, 700_000, MaxDeadLetterBytes, 1_000_000, 3_000_000} {
		m := kafka.Message{Topic: "appeals.raw.vk", Partition: 2, Offset: 7, Key: []byte("vk:1"), Value: bytes.Repeat([]byte{'x'}, n)}
		d := DeadLetter(model.TopicDLQ, m, errors.New("bad"))
		size := len(d.Key) + len(d.Value)
		truncated := ""
		for _, h := range d.Headers {
			size += len(h.Key) + len(h.Value)
			if h.Key == model.HeaderTruncated {
				truncated = string(h.Value)
			}
		}
		if size > MaxDeadLetterBytes {
			t.Errorf("%d-byte record: dead letter of %d bytes exceeds %d", n, size, MaxDeadLetterBytes)
		}
		if cut := len(d.Value) < n; cut != (truncated != "") || cut && truncated != strconv.Itoa(n) {
			t.Errorf("%d-byte record: value %d bytes, truncated header %q", n, len(d.Value), truncated)
		}
		if !bytes.HasPrefix(m.Value, d.Value) {
			t.Errorf("%d-byte record: the dead letter is not the original's prefix", n)
		}
	}
}
