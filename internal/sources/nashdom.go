package sources

import (
	"encoding/json"

	"github.com/teplokarta/teplokarta/internal/model"
)

// NashDom parses one appeal of the «Наш дом» portal (webhook body or one exported record). Its own
// category, theme and executor are hints: the portal's curators set them.
type NashDom struct{ common }

// Source implements Parser.
func (*NashDom) Source() string { return model.SourceNashDom }

// NashDomAppeal is the portal's appeal record.
type NashDomAppeal struct {
	ID           json.Number `json:"id"`
	CreatedAt    string      `json:"created_at"`
	Text         string      `json:"text"`
	Category     string      `json:"category,omitempty"`
	Theme        string      `json:"theme,omitempty"`
	Executor     string      `json:"executor,omitempty"`
	Municipality string      `json:"municipality,omitempty"`
	Address      string      `json:"address,omitempty"`
	Lat          float64     `json:"lat,omitempty"`
	Lon          float64     `json:"lon,omitempty"`
	Status       string      `json:"status,omitempty"`
	AuthorID     string      `json:"author_id,omitempty"`
	Photos       []string    `json:"photos,omitempty"`
}

// Parse implements Parser.
func (p *NashDom) Parse(payload []byte, meta Meta) (*model.Appeal, error) {
	body, err := p.front(model.SourceNashDom, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	var r NashDomAppeal
	if err := decodeJSON(body, &r); err != nil {
		return nil, invalid(model.SourceNashDom, "bad_json", "%v", err)
	}
	a := &model.Appeal{
		SourceID: r.ID.String(), Text: r.Text, Address: r.Address, Lat: r.Lat, Lon: r.Lon,
		AuthorHash: p.hash("nashdom:" + r.AuthorID), Attachments: r.Photos,
		Hints: model.Hints{Category: r.Category, Theme: r.Theme, Agency: r.Executor, Municipality: r.Municipality, Status: r.Status},
	}
	if r.CreatedAt == "" {
		return nil, invalid(model.SourceNashDom, "missing_field", "created_at")
	}
	t, err := parseTime(r.CreatedAt)
	if err != nil {
		return nil, invalid(model.SourceNashDom, "bad_time", "%v", err)
	}
	a.EventTime = t
	if err := p.check(model.SourceNashDom, body, a, meta); err != nil {
		return nil, err
	}
	return a, nil
}
