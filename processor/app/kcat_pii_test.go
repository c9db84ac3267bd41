package app_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// TestKcat112CardStoredMasked sends a «112» card naming its caller in the text through a real Kafka client
// (kcat) and reads the row back from ClickHouse: the name and the phone are masked, the street named after
// a person is kept (issue 14: names were stored intact).
func TestKcat112CardStoredMasked(t *testing.T) {
	t.Parallel()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: `make test` installs it (apt-get install kcat)")
	}
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, "kcat-pii", prefix
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn, Redis: rdb})
	defer func() { _ = stop() }()

	card := `{"card_id":"112-62-2026-200001","created_at":"2026-11-26 10:41:07","incident_type":"Коммунальная авария",` +
		`"description":"Звонит Иванов Иван Петрович, тел. +7 910 123-45-67, на улице Есенина прорыв трубы отопления",` +
		`"address":{"municipality":"Шиловский район","oktmo":"61658151","locality":"р.п. Шилово","street":"ул. Есенина","house":"11"},` +
		`"caller":{"phone":"+7 910 123-45-67","name":"Иванов Иван Петрович"},"service":"ЕДДС Шиловского района"}`
	cmd := exec.Command(kcat, "-b", b.Addr(), "-P", "-t", model.RawTopic(model.Source112), "-k", "112:112-62-2026-200001",
		"-H", "source=112", "-H", model.HeaderContentType+"=application/json")
	cmd.Stdin = strings.NewReader(card)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}

	waitRows(t, conn, 1, time.Minute)
	var text, addr string
	if err := conn.QueryRow(context.Background(), "SELECT text, address FROM appeals").Scan(&text, &addr); err != nil {
		t.Fatal(err)
	}
	const want = "Коммунальная авария. Звонит [фио], тел. [телефон], на улице Есенина прорыв трубы отопления"
	if text != want || strings.Contains(addr, "Иванов") || !strings.Contains(addr, "Есенина") {
		t.Fatalf("stored text %q address %q; want text %q and the street kept", text, addr, want)
	}
}
