package sources

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Sys112 parses an incident card of the «112» system. Callers' phone numbers and names are personal
// data: only their keyed hash leaves this parser.
type Sys112 struct{ common }

// Source implements Parser.
func (*Sys112) Source() string { return model.Source112 }

// Card112 is an incident card. The same card arrives as JSON or as XML (root element <card>).
type Card112 struct {
	XMLName      xml.Name `json:"-" xml:"card"`
	CardID       string   `json:"card_id" xml:"card_id"`
	CreatedAt    string   `json:"created_at" xml:"created_at"`
	IncidentType string   `json:"incident_type" xml:"incident_type"`
	Description  string   `json:"description" xml:"description"`
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

// Parse implements Parser. Meta.ContentType selects the format (…/xml or …/json; a body starting with '<'
// is XML whatever the label) and the charset (windows-1251 when labelled so, else UTF-8; an XML
// declaration's encoding is honoured when the header names none).
func (p *Sys112) Parse(payload []byte, meta Meta) (*model.Appeal, error) {
	if len(payload) > p.lim.MaxBytes {
		return nil, invalid(model.Source112, "oversize", "%d bytes, limit %d", len(payload), p.lim.MaxBytes)
	}
	var c Card112
	if is112XML(payload, meta.ContentType) {
		body, err := p.xmlBody(payload, meta.ContentType)
		if err != nil {
			return nil, err
		}
		if looksLikeHTMLPage(body) {
			return nil, invalid(model.Source112, "html", "body is an HTML page, not a card")
		}
		if err := decodeXML(body, &c); err != nil {
			return nil, invalid(model.Source112, "bad_xml", "%v", err)
		}
		return p.fromCard(body, &c, meta)
	}
	body, err := p.front(model.Source112, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	if err := decodeJSON(body, &c); err != nil {
		return nil, invalid(model.Source112, "bad_json", "%v", err)
	}
	return p.fromCard(body, &c, meta)
}

func is112XML(payload []byte, contentType string) bool {
	if strings.Contains(MediaType(contentType), "xml") {
		return true
	}
	b := bytes.TrimLeft(bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

// xmlBody returns the card as UTF-8. The header's charset wins; without one, the XML declaration's
// encoding is used (cards exported from the 112 system often say encoding="windows-1251" and nothing else).
func (p *Sys112) xmlBody(payload []byte, contentType string) ([]byte, error) {
	cs := Charset(contentType)
	if cs == "" {
		cs = xmlDeclEncoding(payload)
	}
	ct := ""
	if cs != "" {
		ct = "text/xml; charset=" + cs
	}
	body, err := toUTF8(model.Source112, payload, ct)
	if err != nil {
		return nil, err
	}
	return stripXMLDecl(body), nil
}

var xmlEncodingAttr = regexp.MustCompile(`^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-]+)["']`)

func xmlDeclEncoding(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	m := xmlEncodingAttr.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return strings.ToLower(string(m[1]))
}

// stripXMLDecl drops the declaration once the body is UTF-8: encoding/xml refuses a declared encoding it
// cannot convert itself.
func stripXMLDecl(b []byte) []byte {
	t := bytes.TrimLeft(b, " \t\r\n")
	if bytes.HasPrefix(t, []byte("<?xml")) {
		if i := bytes.Index(t, []byte("?>")); i >= 0 {
			return t[i+2:]
		}
	}
	return b
}

// decodeXML decodes one <card> element and refuses trailing elements, as decodeJSON does.
func decodeXML(body []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	if err := dec.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("trailing text after </card>")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errors.New("trailing element after </card>")
		}
	}
}

func (p *Sys112) fromCard(payload []byte, c *Card112, meta Meta) (*model.Appeal, error) {
	text := strings.TrimSpace(c.Description)
	lead := ""
	if c.IncidentType != "" && text != "" {
		lead = c.IncidentType + ". "
		text = lead + text
	}
	addr := strings.Join(nonEmpty(c.Address.Locality, c.Address.Street, c.Address.House), ", ")
	a := &model.Appeal{
		SourceID: c.CardID, Text: text, Address: addr, Lat: c.Lat, Lon: c.Lon,
		AuthorHash: p.hash("phone:" + digits(c.Caller.Phone)),
		Hints:      model.Hints{OKTMO: c.Address.OKTMO, Municipality: c.Address.Municipality, Agency: c.Service, Lead: lead},
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
