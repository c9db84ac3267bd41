package vk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/ingest/vk"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// fakeVK serves wall.get and wall.getComments in VK's documented JSON shape from an in-memory wall that
// the test grows between polls. Posts come newest first (pinned first), comments in the asked order.
type fakeVK struct {
	mu         sync.Mutex
	owner      int64
	posts      []map[string]any // oldest first
	comments   map[int64][]map[string]any
	calls      []string
	failNext   bool
	tokenInURL bool
}

func (f *fakeVK) addPost(id int64, text string, pinned bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := map[string]any{"id": id, "owner_id": f.owner, "from_id": f.owner, "date": 1795690000 + id, "post_type": "post", "text": text,
		"attachments": []any{map[string]any{"type": "photo", "photo": map[string]any{"sizes": []any{map[string]any{"url": fmt.Sprintf("https://sun9.userapi.com/%d.jpg", id), "width": 800, "height": 600}}}}}}
	if pinned {
		p["is_pinned"] = 1
	}
	f.posts = append(f.posts, p)
}

func (f *fakeVK) addComment(post, id int64, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// wall.getComments items of older API versions lack post_id/owner_id: the poller must fill them in.
	f.comments[post] = append(f.comments[post], map[string]any{"id": id, "from_id": 1000 + id, "date": 1795690500 + id, "text": text, "parents_stack": []any{}})
}

func (f *fakeVK) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form
	f.calls = append(f.calls, r.URL.Path)
	if r.URL.Query().Has("access_token") {
		f.tokenInURL = true
	}
	if f.failNext {
		f.failNext = false
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"error_code": 6, "error_msg": "Too many requests per second"}})
		return
	}
	token := q.Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	if q.Get("v") == "" || token != "svc-token" {
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"error_code": 5, "error_msg": "User authorization failed"}})
		return
	}
	count, _ := strconv.Atoi(q.Get("count"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	var all []map[string]any
	switch r.URL.Path {
	case "/method/wall.get":
		for i := len(f.posts) - 1; i >= 0; i-- { // pinned first, then newest first
			if f.posts[i]["is_pinned"] != nil {
				all = append([]map[string]any{f.posts[i]}, all...)
			} else {
				all = append(all, f.posts[i])
			}
		}
	case "/method/wall.getComments":
		post, _ := strconv.ParseInt(q.Get("post_id"), 10, 64)
		all = f.comments[post]
	default:
		http.NotFound(w, r)
		return
	}
	page := []map[string]any{}
	for i := offset; i < len(all) && i < offset+count; i++ {
		page = append(page, all[i])
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"response": map[string]any{"count": len(all), "items": page}})
}

func TestPollerResumes(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	api := &fakeVK{owner: -71234567, comments: map[int64][]map[string]any{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	in := ingest.NewIngestor(sources.Default("s", sources.DefaultLimits()), nil, w, nil, nil)
	cfg := ingest.DefaultConfig().VK.Poller
	cfg.Enabled, cfg.APIBase, cfg.Token, cfg.RequestPause = true, srv.URL+"/method", "svc-token", 0
	cfg.PostsPerPoll, cfg.CommentPosts = 3, 2
	cfg.CursorFile = filepath.Join(t.TempDir(), "vk", "cursor.json")
	cfg.Communities = []ingest.VKCommunity{{OwnerID: -71234567, Name: "Губернатор Рязанской области"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	api.addPost(1, "Старый закреплённый пост о приёме граждан", true)
	for i := int64(2); i <= 5; i++ {
		api.addPost(i, fmt.Sprintf("Пост %d: жалобы на дороги в Рязани", i), false)
	}
	api.addComment(5, 100, "На Московском шоссе яма")
	api.addComment(4, 101, "В Скопине нет света")

	steps := []struct {
		name            string
		grow            func()
		restart         bool
		posts, comments int
		lastPost        int64
		wantErr         bool
	}{
		// First start takes one page (3 items: pinned 1, then 5 and 4) and follows the 2 newest posts.
		{"first", func() {}, false, 3, 2, 5, false},
		{"nothing new", func() {}, false, 0, 0, 5, false},
		{"new post and comments", func() {
			api.addPost(6, "Пост 6: отключение воды в Касимове", false)
			api.addComment(6, 102, "Когда дадут воду?")
			api.addComment(5, 103, "Яму так и не заделали")
		}, false, 1, 2, 6, false},
		{"api error keeps cursor", func() { api.failNext = true; api.addPost(7, "Пост 7: снег не убран", false) }, false, 0, 0, 6, true},
		{"restart from cursor file", func() { api.addComment(6, 104, "Воды нет до сих пор") }, true, 1, 1, 7, false},
	}
	p, err := vk.NewPoller(cfg, in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var totalPosts, totalComments int
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.grow()
			if st.restart {
				if p, err = vk.NewPoller(cfg, in, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			got, err := p.PollOnce(ctx)
			if (err != nil) != st.wantErr {
				t.Fatalf("err %v", err)
			}
			if got.Posts != st.posts || got.Comments != st.comments || got.Rejected != 0 {
				t.Fatalf("stats %+v", got)
			}
			if pos := p.Position(-71234567); pos.LastPostID != st.lastPost || len(pos.Comments) > cfg.CommentPosts {
				t.Fatalf("cursor %+v", pos)
			}
			totalPosts += got.Posts
			totalComments += got.Comments
		})
	}
	raw := ingesttest.ReadAll(t, addr, "appeals.raw.vk")
	keys := map[string]int{}
	for _, m := range raw {
		keys[string(m.Key)]++
		if _, err := sources.Default("s", sources.DefaultLimits()).Parse("vk", m.Value, sources.Meta{ReceivedAt: time.Now()}); err != nil {
			t.Fatalf("polled record does not parse: %v", err)
		}
	}
	if len(raw) != totalPosts+totalComments || len(keys) != len(raw) {
		t.Fatalf("raw records %d (unique %d), want %d: %v", len(raw), len(keys), totalPosts+totalComments, keys)
	}
	for _, k := range []string{"vk:wall-71234567_1", "vk:wall-71234567_7", "vk:reply-71234567_5_103", "vk:reply-71234567_6_104"} {
		if keys[k] != 1 {
			t.Errorf("missing %s in %v", k, keys)
		}
	}
}

// TestPollerKeepsTokenSecret: the token never travels in a URL (URLs are logged by proxies and quoted by
// Go's transport errors), and a failed call's error, which Run logs as is, does not show it.
func TestPollerKeepsTokenSecret(t *testing.T) {
	_, w := ingesttest.Broker(t)
	api := &fakeVK{owner: -71234567, comments: map[int64][]map[string]any{}}
	api.addPost(1, "Пост о дорогах", false)
	srv := httptest.NewServer(api)
	in := ingest.NewIngestor(sources.Default("s", sources.DefaultLimits()), nil, w, nil, nil)
	cfg := ingest.DefaultConfig().VK.Poller
	cfg.Enabled, cfg.APIBase, cfg.Token, cfg.RequestPause, cfg.Interval = true, srv.URL+"/method", "svc-token", 0, time.Hour
	cfg.Communities = []ingest.VKCommunity{{OwnerID: -71234567, Name: "Губернатор"}}
	p, err := vk.NewPoller(cfg, in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if st, err := p.PollOnce(ctx); err != nil || st.Posts != 1 {
		t.Fatalf("poll: %+v %v", st, err)
	}
	if api.tokenInURL {
		t.Error("access_token was sent in the URL")
	}
	srv.Close() // the next call fails in the transport, whose error quotes the URL
	_, err = p.PollOnce(ctx)
	if err == nil {
		t.Fatal("poll against a closed server succeeded")
	}
	if strings.Contains(err.Error(), "svc-token") {
		t.Errorf("error shows the token: %v", err)
	}

}
