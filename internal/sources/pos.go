package sources

import (
	"encoding/json"
	"strings"

	"github.com/teplokarta/teplokarta/internal/model"
)

// POS parses a message of the Gosuslugi «Платформа обратной связи». ПОС carries its own category,
// OKTMO and response deadline: they are strong hints.
type POS struct{ common }

// Source implements Parser.
func (*POS) Source() string { return model.SourcePOS }

// POSMessage is one ПОС appeal.
type POSMessage struct {
	ID               json.Number `json:"id"`
	CreatedAt        string      `json:"createdAt"`
	Subject          string      `json:"subject,omitempty"`
	Text             string      `json:"text"`
	CategoryName     string      `json:"categoryName,omitempty"`
	SubcategoryName  string      `json:"subcategoryName,omitempty"`
	OKTMO            string      `json:"oktmo,omitempty"`
	Address          string      `json:"address,omitempty"`
	ResponseDeadline string      `json:"responseDeadline,omitempty"`
	Status           string      `json:"status,omitempty"`
	Coordinates      *struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	} `json:"coordinates,omitempty"`
	AuthorID    string   `json:"authorId,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
}

// Parse implements Parser.
func (p *POS) Parse(payload []byte, meta Meta) (*model.Appeal, error) {
	body, err := p.front(model.SourcePOS, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	var m POSMessage
	if err := decodeJSON(body, &m); err != nil {
		return nil, invalid(model.SourcePOS, "bad_json", "%v", err)
	}
	text := strings.TrimSpace(m.Text)
	if s := strings.TrimSpace(m.Subject); s != "" && text != "" && !strings.HasPrefix(text, s) {
		text = s + ". " + text
	}
	a := &model.Appeal{
		SourceID: m.ID.String(), Text: text, Address: m.Address, Attachments: m.Attachments,
		AuthorHash: p.hash("pos:" + m.AuthorID),
		Hints:      model.Hints{OKTMO: m.OKTMO, Category: m.CategoryName, Theme: m.SubcategoryName, Status: m.Status},
	}
	if m.Coordinates != nil {
		a.Lat, a.Lon = m.Coordinates.Lat, m.Coordinates.Lon
	}
	if m.CreatedAt == "" {
		return nil, invalid(model.SourcePOS, "missing_field", "createdAt")
	}
	t, err := parseTime(m.CreatedAt)
	if err != nil {
		return nil, invalid(model.SourcePOS, "bad_time", "%v", err)
	}
	a.EventTime = t
	if m.ResponseDeadline != "" {
		d, err := parseTime(m.ResponseDeadline)
		if err != nil {
			return nil, invalid(model.SourcePOS, "bad_time", "responseDeadline: %v", err)
		}
		a.Hints.Deadline = d.UTC()
	}
	if err := p.check(model.SourcePOS, body, a, meta); err != nil {
		return nil, err
	}
	return a, nil
}
