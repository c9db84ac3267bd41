package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/teplokarta/teplokarta/internal/model"
)

// VK parses one VK Callback API event (wall_post_new, wall_reply_new, board_post_new) as VK sends it.
// The poller (wall.get / wall.getComments) wraps each item into the same event shape, so one parser serves
// both paths.
type VK struct{ common }

// Source implements Parser.
func (*VK) Source() string { return model.SourceVK }

// VKEvent is the Callback API envelope.
type VKEvent struct {
	Type    string          `json:"type"`
	GroupID int64           `json:"group_id"`
	EventID string          `json:"event_id"`
	Version string          `json:"v,omitempty"`
	Secret  string          `json:"secret,omitempty"`
	Object  json.RawMessage `json:"object"`
}

// VKItem is the part of a wall post, wall comment or board comment that teplokarta keeps.
type VKItem struct {
	ID           int64          `json:"id"`
	OwnerID      int64          `json:"owner_id"`
	FromID       int64          `json:"from_id"`
	Date         int64          `json:"date"`
	Text         string         `json:"text"`
	PostID       int64          `json:"post_id,omitempty"`        // wall_reply_new
	PostOwnerID  int64          `json:"post_owner_id,omitempty"`  // wall_reply_new
	TopicID      int64          `json:"topic_id,omitempty"`       // board_post_new
	TopicOwnerID int64          `json:"topic_owner_id,omitempty"` // board_post_new
	Attachments  []VKAttachment `json:"attachments,omitempty"`
	Geo          *VKGeo         `json:"geo,omitempty"`
}

// VKAttachment keeps only links: photos (largest size), videos, documents, links.
type VKAttachment struct {
	Type  string `json:"type"`
	Photo *struct {
		Sizes []struct {
			URL    string `json:"url"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"sizes"`
	} `json:"photo,omitempty"`
	Video *struct {
		ID      int64 `json:"id"`
		OwnerID int64 `json:"owner_id"`
	} `json:"video,omitempty"`
	Link *struct {
		URL string `json:"url"`
	} `json:"link,omitempty"`
	Doc *struct {
		URL string `json:"url"`
	} `json:"doc,omitempty"`
}

// VKGeo is a post's place. Wall posts send "coordinates" as "lat lon"; VK's general geo object sends
// {"latitude","longitude"}: both are read, and Coordinates always holds "lat lon".
type VKGeo struct {
	Type        string `json:"type"`
	Coordinates string `json:"coordinates"`
	Place       *struct {
		Title string `json:"title"`
	} `json:"place,omitempty"`
}

// UnmarshalJSON accepts both coordinate shapes. It stays for encoding/json users of VKItem and reads
// through UnmarshalJSONFrom, so that the two cannot drift apart.
func (g *VKGeo) UnmarshalJSON(b []byte) error { return decodeJSON(b, g) }

// UnmarshalJSONFrom accepts both coordinate shapes. decodeJSON prefers it to UnmarshalJSON, which would
// make it cut the geo object out of the event and then have it read a second time. The coordinates stay
// raw until the whole object is read so that of two "coordinates" members only the last one counts, even
// when the first is of no valid shape.
func (g *VKGeo) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var raw struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		Place       *struct {
			Title string `json:"title"`
		} `json:"place,omitempty"`
	}
	if err := jsonv2.UnmarshalDecode(dec, &raw); err != nil {
		return err
	}
	g.Type, g.Place, g.Coordinates = raw.Type, raw.Place, ""
	c := bytes.TrimSpace(raw.Coordinates)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		return decodeJSON(c, &g.Coordinates)
	default:
		var ll struct {
			Latitude  float64 `json:"latitude"`
			Longitude float64 `json:"longitude"`
		}
		if err := decodeJSON(c, &ll); err != nil {
			return err
		}
		g.Coordinates = strconv.FormatFloat(ll.Latitude, 'f', -1, 64) + " " + strconv.FormatFloat(ll.Longitude, 'f', -1, 64)
	}
	return nil
}

// Parse implements Parser.
func (p *VK) Parse(payload []byte, meta Meta) (*model.Appeal, error) {
	body, err := p.front(model.SourceVK, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	var ev vkEnvelope
	if err := decodeJSON(body, &ev); err != nil {
		return nil, invalid(model.SourceVK, "bad_json", "%v", err)
	}
	switch ev.Type {
	case "wall_post_new", "wall_reply_new", "board_post_new":
	case "":
		return nil, invalid(model.SourceVK, "missing_field", "event type")
	default:
		return nil, invalid(model.SourceVK, "unsupported_event", "event type %q", ev.Type)
	}
	if !ev.Object.present {
		return nil, invalid(model.SourceVK, "missing_field", "event has no object")
	}
	if ev.Object.err != nil {
		return nil, invalid(model.SourceVK, "bad_json", "object: %v", ev.Object.err)
	}
	it := &ev.Object.item
	if it.ID == 0 {
		return nil, invalid(model.SourceVK, "missing_field", "object.id")
	}
	a := &model.Appeal{Text: it.Text, AuthorHash: p.hash("vk:" + strconv.FormatInt(it.FromID, 10))}
	switch ev.Type {
	case "wall_post_new":
		a.SourceID = fmt.Sprintf("wall%d_%d", it.OwnerID, it.ID)
		a.URL = "https://vk.com/" + a.SourceID
	case "wall_reply_new":
		owner := it.OwnerID
		if owner == 0 {
			owner = it.PostOwnerID
		}
		a.SourceID = fmt.Sprintf("reply%d_%d_%d", owner, it.PostID, it.ID)
		a.URL = fmt.Sprintf("https://vk.com/wall%d_%d?reply=%d", owner, it.PostID, it.ID)
	case "board_post_new":
		a.SourceID = fmt.Sprintf("board%d_%d_%d", it.TopicOwnerID, it.TopicID, it.ID)
		a.URL = fmt.Sprintf("https://vk.com/topic%d_%d?post=%d", it.TopicOwnerID, it.TopicID, it.ID)
	case "":
		return nil, invalid(model.SourceVK, "missing_field", "event type")
	default:
		return nil, invalid(model.SourceVK, "unsupported_event", "event type %q", ev.Type)
	}
	if it.Date > 0 {
		a.EventTime = time.Unix(it.Date, 0)
	}
	for _, at := range it.Attachments {
		if u := at.link(); u != "" {
			a.Attachments = append(a.Attachments, u)
		}
	}
	if it.Geo != nil {
		if f := strings.Fields(it.Geo.Coordinates); len(f) == 2 {
			a.Lat, _ = strconv.ParseFloat(f[0], 64)
			a.Lon, _ = strconv.ParseFloat(f[1], 64)
		}
		if it.Geo.Place != nil {
			a.Address = it.Geo.Place.Title
		}
	}
	if err := p.check(model.SourceVK, body, a, meta); err != nil {
		return nil, err
	}
	return a, nil
}

// vkEnvelope is VKEvent with its object decoded where it stands. Cutting the object out as a RawMessage
// and decoding that afterwards scanned and copied most of the event twice (15–20 % of a VK parse).
type vkEnvelope struct {
	VKEvent
	Object vkObject `json:"object"`
}

// vkObject gives the one-pass decoding the outcomes of the two passes it replaces. A type error in the
// object (an id given as a string) is kept instead of returned, because the event type was checked before
// the object was decoded: an unsupported event with a bad object is unsupported_event, not bad_json. A
// syntax error anywhere still fails the whole event at once. A second "object" member replaces the first
// one whole, error included, as a second RawMessage did; present is set by any member, even null, as a
// RawMessage held "null".
type vkObject struct {
	present bool
	item    VKItem
	err     error
}

func (o *vkObject) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*o = vkObject{present: true}
	depth := dec.StackDepth()
	err := jsonv2.UnmarshalDecode(dec, &o.item)
	var se *jsonv2.SemanticError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	o.err = err
	// jsonv2 stops at the first type error, where encoding/json checked the syntax of the rest of the
	// event too: read on to the end of the object so that a syntax error after it still fails the event.
	for dec.StackDepth() > depth {
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	}
	return nil
}

func (at VKAttachment) link() string {
	switch {
	case at.Photo != nil && len(at.Photo.Sizes) > 0:
		best := at.Photo.Sizes[0]
		for _, s := range at.Photo.Sizes {
			if s.Width*s.Height > best.Width*best.Height {
				best = s
			}
		}
		return best.URL
	case at.Video != nil:
		return fmt.Sprintf("https://vk.com/video%d_%d", at.Video.OwnerID, at.Video.ID)
	case at.Link != nil:
		return at.Link.URL
	case at.Doc != nil:
		return at.Doc.URL
	}
	return ""
}
