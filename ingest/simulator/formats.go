package simulator

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// Communities whose walls the ЦУР watches (VK ids of groups are negative owner ids).
var vkCommunities = []int64{-100001, -100002, -100003, -100004} // governor, ministry, city, district news

// message renders one appeal in its source's own format.
func (g *Generator) message(src string, p place, t topic, text string, event, arrival time.Time, kind Kind) Message {
	m := Message{Source: src, ContentType: "application/json", Arrival: arrival.UTC(), EventTime: event.UTC().Truncate(time.Second),
		OKTMO: p.OKTMO, Category: t.Category, Kind: kind}
	mun, _ := g.geo.ByOKTMO(p.OKTMO)
	id := g.nextID(src)
	var v any
	switch src {
	case model.SourceVK:
		owner := vkCommunities[g.rng.IntN(len(vkCommunities))]
		item := map[string]any{"id": id, "owner_id": owner, "from_id": 1000000 + g.rng.IntN(9000000), "date": m.EventTime.Unix(), "text": text}
		if g.rng.Float64() < g.cfg.VKGeoShare {
			item["geo"] = map[string]any{"type": "point", "coordinates": fmt.Sprintf("%.4f %.4f", mun.Lat, mun.Lon)}
		}
		if g.rng.IntN(4) == 0 {
			item["attachments"] = []any{map[string]any{"type": "photo", "photo": map[string]any{"sizes": []any{
				map[string]any{"url": fmt.Sprintf("https://sun9-1.userapi.com/impg/%d.jpg", id), "width": 1280, "height": 960}}}}}
		}
		m.SourceID = fmt.Sprintf("wall%d_%d", owner, id)
		v = map[string]any{"type": "wall_post_new", "group_id": -owner, "event_id": fmt.Sprintf("%x", g.rng.Uint64()), "v": "5.199", "object": item}
	case model.SourceNashDom:
		sid := 200000 + id
		m.SourceID = fmt.Sprint(sid)
		v = sources.NashDomAppeal{ID: json.Number(m.SourceID), CreatedAt: m.EventTime.In(moscow).Format(time.RFC3339), Text: text,
			Category: t.Category, Theme: t.Theme, Municipality: mun.DisplayName(), Status: "Новое", AuthorID: fmt.Sprint(g.rng.IntN(500000))}
	case model.Source112:
		m.SourceID = fmt.Sprintf("112-62-%s-%06d", m.EventTime.In(moscow).Format("20060102"), id)
		c := sources.Card112{CardID: m.SourceID, CreatedAt: m.EventTime.In(moscow).Format("2006-01-02 15:04:05"), IncidentType: t.Type112, Description: text}
		c.Address.OKTMO = p.OKTMO
		c.Address.Municipality = mun.DisplayName()
		c.Address.Locality = mun.Centre
		c.Caller.Phone = fmt.Sprintf("+7 9%02d %03d-%02d-%02d", g.rng.IntN(100), g.rng.IntN(1000), g.rng.IntN(100), g.rng.IntN(100))
		c.Caller.Name = "Абонент"
		v = c
	default:
		sid := 5000000 + id
		m.SourceID = fmt.Sprint(sid)
		v = sources.POSMessage{ID: json.Number(m.SourceID), CreatedAt: m.EventTime.Format(time.RFC3339), Text: text,
			CategoryName: t.Category, SubcategoryName: t.Theme, OKTMO: p.OKTMO, Status: "Зарегистрировано",
			ResponseDeadline: m.EventTime.Add(10 * 24 * time.Hour).Format(time.RFC3339), AuthorID: fmt.Sprint(g.rng.IntN(500000))}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own static types are marshalled
	}
	m.Payload = b
	return m
}
