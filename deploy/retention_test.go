package deploy_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/model"
)

// rawRetentionMs is 7 days: raw topics hold the sources' original bytes with personal data unmasked.
const rawRetentionMs = "604800000"

// TestRawTopicsRetention: compose's kafka-init creates every raw topic with retention.ms = 7 days and sets
// it on a raw topic that already exists (--if-not-exists alone would leave an older stack's default).
func TestRawTopicsRetention(t *testing.T) {
	_, p := loadCompose(t)
	init, ok := p.Services["kafka-init"]
	if !ok {
		t.Fatal("compose has no kafka-init")
	}
	script := strings.Join(init.Command, "\n")
	// Each `for t in <topics>; do <body> done` loop: which topics, and what its body runs for each.
	loop := regexp.MustCompile(`(?s)for t in ([^;]+); do(.*?)done`)
	type rule struct{ create, alter bool }
	got := map[string]rule{}
	for _, m := range loop.FindAllStringSubmatch(script, -1) {
		var r rule
		for _, line := range strings.Split(m[2], "\n") {
			if !strings.Contains(line, "retention.ms="+rawRetentionMs) {
				continue
			}
			r.create = r.create || strings.Contains(line, "kafka-topics.sh") && strings.Contains(line, "--create") && strings.Contains(line, "--config retention.ms=")
			r.alter = r.alter || strings.Contains(line, "kafka-configs.sh") && strings.Contains(line, "--alter") && strings.Contains(line, "--add-config retention.ms=")
		}
		for _, topic := range strings.Fields(m[1]) {
			got[topic] = r
		}
	}
	for _, s := range model.KnownSources {
		topic := model.RawTopic(s)
		r, ok := got[topic]
		switch {
		case !ok:
			t.Errorf("kafka-init does not create %s", topic)
		case !r.create:
			t.Errorf("%s is created without retention.ms=%s", topic, rawRetentionMs)
		case !r.alter:
			t.Errorf("%s: retention.ms=%s is not set on an existing topic", topic, rawRetentionMs)
		}
	}
}
