package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/model"
)

// maxPages bounds the catch-up of one poll per wall or comment thread (VK pages are ≤ 100 items).
const maxPages = 10

// Cursor is the poller's resumable position, saved after every Kafka acknowledgement. Losing it costs
// duplicates (harmless downstream), never gaps, because it only moves after the ack.
type Cursor struct {
	Walls map[string]*WallCursor `json:"walls"` // key: owner_id
}

// WallCursor is the position in one community wall.
type WallCursor struct {
	LastPostID int64           `json:"last_post_id"`
	Comments   map[int64]int64 `json:"comments"` // followed post id → last comment id seen
}

// Stats of one poll.
type Stats struct{ Posts, Comments, Rejected int }

// Poller polls wall.get and wall.getComments of the configured communities.
type Poller struct {
	cfg    ingest.VKPollerConf
	in     *ingest.Ingestor
	client *http.Client
	log    *slog.Logger
	cursor Cursor
}

// NewPoller loads the cursor file (a missing file is a first start).
func NewPoller(cfg ingest.VKPollerConf, in *ingest.Ingestor, client *http.Client, log *slog.Logger) (*Poller, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Poller{cfg: cfg, in: in, client: client, log: log, cursor: Cursor{Walls: map[string]*WallCursor{}}}
	if cfg.CursorFile != "" {
		b, err := os.ReadFile(cfg.CursorFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("vk poller: cursor: %w", err)
		default:
			if err := json.Unmarshal(b, &p.cursor); err != nil {
				return nil, fmt.Errorf("vk poller: cursor %s: %w", cfg.CursorFile, err)
			}
			if p.cursor.Walls == nil {
				p.cursor.Walls = map[string]*WallCursor{}
			}
		}
	}
	return p, nil
}

// Run polls every interval until ctx ends. A failed poll is logged and retried at the next tick.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		st, err := p.PollOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("vk poll failed", "err", err)
		} else if err == nil {
			p.log.Info("vk poll", "posts", st.Posts, "comments", st.Comments, "rejected", st.Rejected)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PollOnce polls every community once.
func (p *Poller) PollOnce(ctx context.Context) (Stats, error) {
	var total Stats
	for _, c := range p.cfg.Communities {
		st, err := p.pollWall(ctx, c.OwnerID)
		total.Posts += st.Posts
		total.Comments += st.Comments
		total.Rejected += st.Rejected
		if err != nil {
			return total, fmt.Errorf("vk poller: wall %d (%s): %w", c.OwnerID, c.Name, err)
		}
	}
	return total, nil
}

func (p *Poller) wall(owner int64) *WallCursor {
	k := strconv.FormatInt(owner, 10)
	wc := p.cursor.Walls[k]
	if wc == nil {
		wc = &WallCursor{Comments: map[int64]int64{}}
		p.cursor.Walls[k] = wc
	}
	if wc.Comments == nil {
		wc.Comments = map[int64]int64{}
	}
	return wc
}

type item struct {
	ID       int64 `json:"id"`
	IsPinned int   `json:"is_pinned"`
	raw      json.RawMessage
}

func (p *Poller) pollWall(ctx context.Context, owner int64) (Stats, error) {
	var st Stats
	wc := p.wall(owner)
	var fresh []item
	for page := 0; page < maxPages; page++ {
		items, err := p.call(ctx, "wall.get", url.Values{"owner_id": {strconv.FormatInt(owner, 10)},
			"count": {strconv.Itoa(p.cfg.PostsPerPoll)}, "offset": {strconv.Itoa(page * p.cfg.PostsPerPoll)}})
		if err != nil {
			return st, err
		}
		older := false
		for _, it := range items {
			if it.ID > wc.LastPostID {
				fresh = append(fresh, it)
			} else if it.IsPinned == 0 {
				older = true
			}
		}
		// A first start takes one page: the poller follows a wall, it does not archive it.
		if older || len(items) < p.cfg.PostsPerPoll || wc.LastPostID == 0 {
			break
		}
	}
	slices.SortFunc(fresh, func(a, b item) int { return int(a.ID - b.ID) })
	msgs := make([]ingest.Message, 0, len(fresh))
	for _, it := range fresh {
		b, err := wrap("wall_post_new", owner, it, nil)
		if err != nil {
			return st, err
		}
		msgs = append(msgs, ingest.Message{Source: model.SourceVK, Payload: b, ContentType: "application/json"})
	}
	n, rej, err := p.send(ctx, msgs)
	if err != nil {
		return st, err
	}
	st.Posts, st.Rejected = n, rej
	for _, it := range fresh {
		wc.LastPostID = max(wc.LastPostID, it.ID)
		if _, ok := wc.Comments[it.ID]; !ok {
			wc.Comments[it.ID] = 0
		}
	}
	p.trimFollowed(wc)
	if err := p.save(); err != nil {
		return st, err
	}
	for _, post := range sortedKeys(wc.Comments) {
		nc, rej, err := p.pollComments(ctx, owner, post, wc)
		st.Comments += nc
		st.Rejected += rej
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// trimFollowed keeps the comment threads of the newest CommentPosts posts.
func (p *Poller) trimFollowed(wc *WallCursor) {
	keys := sortedKeys(wc.Comments)
	for len(keys) > p.cfg.CommentPosts {
		delete(wc.Comments, keys[0])
		keys = keys[1:]
	}
}

func sortedKeys(m map[int64]int64) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p *Poller) pollComments(ctx context.Context, owner, post int64, wc *WallCursor) (int, int, error) {
	last := wc.Comments[post]
	var fresh []item
	for page := 0; page < maxPages; page++ {
		items, err := p.call(ctx, "wall.getComments", url.Values{"owner_id": {strconv.FormatInt(owner, 10)},
			"post_id": {strconv.FormatInt(post, 10)}, "sort": {"asc"}, "count": {"100"}, "preview_length": {"0"},
			"offset": {strconv.Itoa(page * 100)}})
		if err != nil {
			return 0, 0, err
		}
		for _, it := range items {
			if it.ID > last {
				fresh = append(fresh, it)
			}
		}
		if len(items) < 100 {
			break
		}
	}
	msgs := make([]ingest.Message, 0, len(fresh))
	for _, it := range fresh {
		b, err := wrap("wall_reply_new", owner, it, map[string]int64{"post_id": post, "owner_id": owner, "post_owner_id": owner})
		if err != nil {
			return 0, 0, err
		}
		msgs = append(msgs, ingest.Message{Source: model.SourceVK, Payload: b, ContentType: "application/json"})
	}
	n, rej, err := p.send(ctx, msgs)
	if err != nil {
		return 0, 0, err
	}
	for _, it := range fresh {
		wc.Comments[post] = max(wc.Comments[post], it.ID)
	}
	if len(fresh) > 0 {
		if err := p.save(); err != nil {
			return n, rej, err
		}
	}
	return n, rej, nil
}

func (p *Poller) send(ctx context.Context, msgs []ingest.Message) (int, int, error) {
	if len(msgs) == 0 {
		return 0, 0, nil
	}
	res, err := p.in.Ingest(ctx, msgs...)
	if err != nil {
		return 0, 0, err
	}
	var ok, rej int
	for _, r := range res {
		if r.Outcome == ingest.Rejected {
			rej++
		} else {
			ok++
		}
	}
	return ok, rej, nil
}

// wrap puts a wall.get / wall.getComments item into the Callback API envelope, so that one parser and one
// schema serve both paths. fill adds fields the item may lack (comments do not always carry post_id).
func wrap(typ string, owner int64, it item, fill map[string]int64) ([]byte, error) {
	obj := it.raw
	if len(fill) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(it.raw, &m); err != nil {
			return nil, fmt.Errorf("vk item: %w", err)
		}
		for k, v := range fill {
			if _, ok := m[k]; !ok {
				m[k] = json.RawMessage(strconv.FormatInt(v, 10))
			}
		}
		var err error
		if obj, err = json.Marshal(m); err != nil {
			return nil, err
		}
	}
	return json.Marshal(struct {
		Type    string          `json:"type"`
		GroupID int64           `json:"group_id"`
		EventID string          `json:"event_id"`
		Object  json.RawMessage `json:"object"`
	}{typ, abs(owner), fmt.Sprintf("poll:%s:%d_%d", typ, owner, it.ID), obj})
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// APIError is an error answer of the VK API.
type APIError struct {
	Code int    `json:"error_code"`
	Msg  string `json:"error_msg"`
}

func (e *APIError) Error() string { return fmt.Sprintf("vk api error %d: %s", e.Code, e.Msg) }

func (p *Poller) call(ctx context.Context, method string, q url.Values) ([]item, error) {
	if p.cfg.RequestPause > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(p.cfg.RequestPause):
		}
	}
	q.Set("v", p.cfg.Version)
	// The token goes in "Authorization: Bearer" and the parameters in a POST form body, both of which VK's
	// API takes (dev.vk.com/en/api/api-requests): a URL ends up in error messages, logs and proxies'
	// access logs, a header does not.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.APIBase+"/"+method, strings.NewReader(q.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, p.redact(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, p.redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", method, resp.Status)
	}
	var body struct {
		Response *struct {
			Items []json.RawMessage `json:"items"`
		} `json:"response"`
		Error *APIError `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if body.Error != nil {
		return nil, fmt.Errorf("%s: %w", method, body.Error)
	}
	if body.Response == nil {
		return nil, fmt.Errorf("%s: no response", method)
	}
	items := make([]item, 0, len(body.Response.Items))
	for _, raw := range body.Response.Items {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, fmt.Errorf("%s: item: %w", method, err)
		}
		it.raw = raw
		items = append(items, it)
	}
	return items, nil
}

// redact keeps the token out of an error that might quote it (a transport error names the URL, an
// API base configured with the token in it included).
func (p *Poller) redact(err error) error {
	if p.cfg.Token == "" || !strings.Contains(err.Error(), p.cfg.Token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), p.cfg.Token, "[token]"))
}

// save writes the cursor atomically (temp file + rename).
func (p *Poller) save() error {
	if p.cfg.CursorFile == "" {
		return nil
	}
	b, err := json.MarshalIndent(p.cursor, "", " ")
	if err != nil {
		return err
	}
	tmp := p.cfg.CursorFile + ".tmp"
	if err := os.MkdirAll(filepath.Dir(p.cfg.CursorFile), 0o755); err != nil {
		return fmt.Errorf("vk cursor: %w", err)
	}
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("vk cursor: %w", err)
	}
	if err := os.Rename(tmp, p.cfg.CursorFile); err != nil {
		return fmt.Errorf("vk cursor: %w", err)
	}
	return nil
}

// Position returns a copy of the cursor of one wall (tests, status pages).
func (p *Poller) Position(owner int64) WallCursor {
	wc := p.wall(owner)
	cp := WallCursor{LastPostID: wc.LastPostID, Comments: map[int64]int64{}}
	for k, v := range wc.Comments {
		cp.Comments[k] = v
	}
	return cp
}
