package sources

import (
	"encoding/json"
	"strings"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Sys112 parses an incident card of the «112» system. Callers' phone numbers and names are personal
// data: only their salted hash leaves this parser.
type Sys112 struct{ common }

// Source implements Parser.
func (*Sys112) Source() string { return model.Source112 }

// Card112 is an incident card.
type Card112 struct {
	CardID       string `json:"card_id" xml:"card_id"`
	CreatedAt    string `json:"created_at" xml:"created_at"`
	IncidentType string `json:"incident_type" xml:"incident_type"`
	Description  string `json:"description" xml:"description"`
	Address      struct {
		Municipality string `json:"municipality" xml:"municipality"`
		OKTMO        string `json:"oktmo" xml:"oktmo"`
		Locality     string `json:"locality" xml:"locality"`
		Street       string `json:"street" xml:"street"`
		House        string `json:"house" xml:"house"`
	} `json:"address" xml:"address"`
	Lat    float64 `json:"lat,omitempty" xml:"lat"`
	Lon    float64 `json:"lon,omitempty" xml:"lon"`
	Caller struct {
		Phone string `json:"phone" xml:"phone"`
		Name  string `json:"name" xml:"name"`
	} `json:"caller" xml:"caller"`
	Service string `json:"service,omitempty" xml:"service"` // ЕДДС service the card was passed to
}

// Parse implements Parser.
func (p *Sys112) Parse(payload []byte, meta Meta) (*model.Appeal, error) {
	var c Card112
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid(model.Source112, "bad_json", "%v", err)
	}
	return p.fromCard(payload, &c, meta)
}

func (p *Sys112) fromCard(payload []byte, c *Card112, meta Meta) (*model.Appeal, error) {
	text := strings.TrimSpace(c.Description)
	if c.IncidentType != "" && text != "" {
		text = c.IncidentType + ". " + text
	}
	addr := strings.Join(nonEmpty(c.Address.Locality, c.Address.Street, c.Address.House), ", ")
	a := &model.Appeal{
		SourceID: c.CardID, Text: text, Address: addr, Lat: c.Lat, Lon: c.Lon,
		AuthorHash: p.hash("phone:" + digits(c.Caller.Phone)),
		Hints:      model.Hints{OKTMO: c.Address.OKTMO, Municipality: c.Address.Municipality, Agency: c.Service},
	}
	if c.CreatedAt == "" {
		return nil, invalid(model.Source112, "missing_field", "created_at")
	}
	t, err := parseTime(c.CreatedAt)
	if err != nil {
		return nil, invalid(model.Source112, "bad_time", "%v", err)
	}
	a.EventTime = t
	if err := p.check(model.Source112, payload, a, meta); err != nil {
		return nil, err
	}
	return a, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' { // 8-XXX… and +7-XXX… are the same number
		d = "7" + d[1:]
	}
	return d
}
