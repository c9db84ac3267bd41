// Package vk connects VK community walls: the Callback API webhook (VK pushes wall_post_new,
// wall_reply_new, board_post_new) and a poller of wall.get / wall.getComments for communities whose admins
// set up no callback server. Both hand the ingestor the same Callback API event shape.
package vk

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Callback serves VK's Callback API. VK wants "ok" for every event it should not resend; anything else
// (or a 5xx) makes it retry. So "ok" is sent once the event is on Kafka, valid or dead-lettered.
type Callback struct {
	cfg ingest.VKConfig
	in  *ingest.Ingestor
	log *slog.Logger
}

// NewCallback builds the handler.
func NewCallback(cfg ingest.VKConfig, in *ingest.Ingestor, log *slog.Logger) *Callback {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Callback{cfg: cfg, in: in, log: log}
}

type envelope struct {
	Type    string `json:"type"`
	GroupID int64  `json:"group_id"`
	Secret  string `json:"secret"`
}

// ServeHTTP implements http.Handler. Nothing is written to Kafka (raw topic or dead letters) before the
// group and the secret are checked. The body is kept byte for byte, "secret" field included: the raw
// topic is internal and the contract is the original bytes.
func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var env envelope
	if json.Unmarshal(body, &env) != nil {
		// Not VK (VK always sends JSON), and without a group and secret nobody vouches for it: refused and
		// counted, never written to the dead-letter topic (that would let anyone write to appeals.dlq).
		c.in.CountRefused(model.SourceVK, "bad_json")
		http.Error(w, "not a VK Callback API event", http.StatusBadRequest)
		return
	}
	if len(c.cfg.GroupIDs) > 0 && !slices.Contains(c.cfg.GroupIDs, env.GroupID) {
		c.in.CountRefused(model.SourceVK, "forbidden")
		http.Error(w, "unknown group", http.StatusForbidden)
		return
	}
	if env.Type == "confirmation" {
		if c.cfg.Confirmation == "" {
			http.Error(w, "no confirmation string configured", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, c.cfg.Confirmation)
		return
	}
	if c.cfg.Secret != "" && subtle.ConstantTimeCompare([]byte(env.Secret), []byte(c.cfg.Secret)) != 1 {
		c.in.CountRefused(model.SourceVK, "forbidden")
		http.Error(w, "bad secret", http.StatusForbidden)
		return
	}
	if _, err := c.in.Ingest(r.Context(), ingest.Message{Source: model.SourceVK, Payload: body, ContentType: "application/json"}); err != nil {
		c.log.Warn("vk event not stored; VK will retry", "err", err)
		http.Error(w, "not stored, retry", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}
