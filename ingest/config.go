package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// Config of an ingest instance; deploy/ingest.example.yaml documents every field.
type Config struct {
	Listen string      `yaml:"listen"` // default 127.0.0.1:8080
	Kafka  KafkaConfig `yaml:"kafka"`
	// PIIKey is the HMAC key of the identity hashes (pii.HashIdentity); PIIKeyFile holds it instead
	// (relative to the config file's folder). Required unless Local.
	PIIKey     string `yaml:"pii_key"`
	PIIKeyFile string `yaml:"pii_key_file"`
	// Local is local mode (`teplokarta run`, --local, tests): without a key the public built-in
	// pii.LocalKey is used. Never read from YAML: a deployment's file cannot switch it on.
	Local                bool                    `yaml:"-"`
	Limits               LimitsConfig            `yaml:"limits"`
	AllowUnauthenticated bool                    `yaml:"allow_unauthenticated"` // needed to serve sources without auth on a non-loopback address
	Sources              map[string]SourceConfig `yaml:"sources"`               // per built-in source; absent = defaults
	VK                   VKConfig                `yaml:"vk"`
	Generic              []GenericSource         `yaml:"generic"`
}

// KafkaConfig of the producer.
type KafkaConfig struct {
	Brokers      []string      `yaml:"brokers"`       // default 127.0.0.1:19092
	BatchSize    int           `yaml:"batch_size"`    // default 1000
	BatchTimeout time.Duration `yaml:"batch_timeout"` // default 2ms: webhooks wait at most this for company
	EnsureTopics bool          `yaml:"ensure_topics"` // create missing raw topics at start (default true)
	Partitions   int           `yaml:"partitions"`    // partitions of topics ingest creates; default 4
	// TLS and SASL (docs/security.md#kafka): ca_file is relative to the config file's folder; the password
	// may be read from password_file instead (one line).
	TLS           bool   `yaml:"tls"`
	CAFile        string `yaml:"ca_file"`
	ServerName    string `yaml:"server_name"`
	SASLMechanism string `yaml:"sasl_mechanism"` // PLAIN (with TLS only), SCRAM-SHA-256, SCRAM-SHA-512
	User          string `yaml:"user"`
	Password      string `yaml:"password"`
	PasswordFile  string `yaml:"password_file"`
}

// Security is the producer's TLS and SASL settings, to build with kafkax.SecurityConfig.Build.
func (k KafkaConfig) Security() kafkax.SecurityConfig {
	return kafkax.SecurityConfig{TLS: k.TLS, CAFile: k.CAFile, ServerName: k.ServerName, Mechanism: k.SASLMechanism,
		User: k.User, Password: k.Password}
}

// LimitsConfig are the message rules shared by all sources.
type LimitsConfig struct {
	MaxMessageBytes int           `yaml:"max_message_bytes"` // one message; default 256 KiB
	MaxTextRunes    int           `yaml:"max_text_runes"`    // default 20,000
	MaxFutureSkew   time.Duration `yaml:"max_future_skew"`   // default 10m
	MaxBatchBytes   int64         `yaml:"max_batch_bytes"`   // one NDJSON batch body; default 64 MiB
	MaxBatchLines   int           `yaml:"max_batch_lines"`   // default 100,000
	// MaxConcurrentRequests bounds source requests being read or processed at once (all sources); more
	// are answered 429 at once. Default 256; 0 = unlimited.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
}

// SourceConfig is what every source (built-in or generic) has at its HTTP door.
type SourceConfig struct {
	Auth          AuthConfig      `yaml:"auth"`
	RateLimit     RateLimitConfig `yaml:"rate_limit"`
	MaxBodyBytes  int             `yaml:"max_body_bytes"`  // single-message body; default limits.max_message_bytes
	MaxBatchBytes int64           `yaml:"max_batch_bytes"` // NDJSON batch body; default limits.max_batch_bytes
}

// Auth modes.
const (
	AuthNone  = "none"
	AuthToken = "token" // shared secret: "Authorization: Bearer <secret>" or the configured header
	AuthHMAC  = "hmac"  // hex HMAC-SHA256 of the body in the configured header, "sha256=" prefix optional
)

// AuthConfig of one source.
type AuthConfig struct {
	Mode   string `yaml:"mode"`   // none | token | hmac; default none
	Secret string `yaml:"secret"` // the token or the HMAC key
	// SecretFile holds the secret instead (one line; relative to the config file's folder), so the YAML
	// can be shared while each deployment mounts its own secrets. LoadConfig reads it into Secret.
	SecretFile string `yaml:"secret_file"`
	Header     string `yaml:"header"` // token: default Authorization; hmac: default X-Signature
}

// RateLimitConfig is a token bucket of requests per second per source; 0 = unlimited.
type RateLimitConfig struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"` // default 2 × per_second
}

// VKConfig holds the Callback API settings and the poller.
type VKConfig struct {
	Confirmation string       `yaml:"confirmation"` // string VK expects back on "confirmation"
	Secret       string       `yaml:"secret"`       // "secret" field VK puts in every event; "" = not checked
	SecretFile   string       `yaml:"secret_file"`  // or read it from this file (relative to the config file)
	GroupIDs     []int64      `yaml:"group_ids"`    // accepted communities; empty = any
	Poller       VKPollerConf `yaml:"poller"`
}

// VKPollerConf configures wall.get / wall.getComments polling.
type VKPollerConf struct {
	Enabled      bool          `yaml:"enabled"`
	APIBase      string        `yaml:"api_base"` // default https://api.vk.com/method
	Token        string        `yaml:"token"`    // service token
	Version      string        `yaml:"version"`  // default 5.199
	Interval     time.Duration `yaml:"interval"` // default 60s
	CursorFile   string        `yaml:"cursor_file"`
	PostsPerPoll int           `yaml:"posts_per_poll"` // wall.get count; default 100 (VK's maximum)
	CommentPosts int           `yaml:"comment_posts"`  // newest posts whose comments are followed; default 20
	Communities  []VKCommunity `yaml:"communities"`    // governor, ministries, city communities
	RequestPause time.Duration `yaml:"request_pause"`  // between API calls (VK allows 3/s for a token); default 350ms
}

// VKCommunity is one polled community wall.
type VKCommunity struct {
	OwnerID int64  `yaml:"owner_id"` // negative for communities
	Name    string `yaml:"name"`
}

// GenericSource is a system connected by configuration only.
type GenericSource struct {
	Name         string `yaml:"name"`
	SourceConfig `yaml:",inline"`
	Mapping      sources.GenericMapping `yaml:"mapping"`
}

// DefaultConfig is the local default: loopback, no auth, embedded broker, local mode. LoadConfig leaves
// local mode; commands set it from their --local flag.
func DefaultConfig() Config {
	return Config{
		Local:  true,
		Listen: "127.0.0.1:8080",
		Kafka:  KafkaConfig{Brokers: []string{"127.0.0.1:19092"}, BatchSize: 1000, BatchTimeout: 2 * time.Millisecond, EnsureTopics: true, Partitions: 4},
		Limits: LimitsConfig{MaxMessageBytes: 256 << 10, MaxTextRunes: 20000, MaxFutureSkew: 10 * time.Minute, MaxBatchBytes: 64 << 20, MaxBatchLines: 100000, MaxConcurrentRequests: 256},
		VK:     VKConfig{Poller: VKPollerConf{APIBase: "https://api.vk.com/method", Version: "5.199", Interval: time.Minute, PostsPerPoll: 100, CommentPosts: 20, RequestPause: 350 * time.Millisecond}},
	}
}

// LoadConfig reads a YAML file over the defaults. Unknown keys are errors: a typo in an auth block must
// not silently leave a source open.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("ingest config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("ingest config %s: %w", path, err)
	}
	c.Local = false
	if err := c.readSecretFiles(filepath.Dir(path)); err != nil {
		return c, fmt.Errorf("ingest config %s: %w", path, err)
	}
	return c, nil
}

// readSecretFiles replaces every secret_file by the secret it holds.
func (c *Config) readSecretFiles(dir string) error {
	var errs []error
	read := func(what string, secret *string, file string) {
		if file == "" {
			return
		}
		if *secret != "" {
			errs = append(errs, fmt.Errorf("%s: set secret or secret_file, not both", what))
			return
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			return
		}
		if *secret = strings.TrimSpace(string(b)); *secret == "" {
			errs = append(errs, fmt.Errorf("%s: %s is empty", what, file))
		}
	}
	for name, sc := range c.Sources {
		read("sources."+name+".auth", &sc.Auth.Secret, sc.Auth.SecretFile)
		c.Sources[name] = sc
	}
	for i := range c.Generic {
		read("generic "+c.Generic[i].Name+" auth", &c.Generic[i].Auth.Secret, c.Generic[i].Auth.SecretFile)
	}
	read("vk", &c.VK.Secret, c.VK.SecretFile)
	read("pii_key", &c.PIIKey, c.PIIKeyFile)
	read("kafka.password", &c.Kafka.Password, c.Kafka.PasswordFile)
	if c.Kafka.CAFile != "" && !filepath.IsAbs(c.Kafka.CAFile) {
		c.Kafka.CAFile = filepath.Join(dir, c.Kafka.CAFile)
	}
	return errors.Join(errs...)
}

// SourceNames lists the built-in and generic sources.
func (c Config) SourceNames() []string {
	names := append([]string(nil), model.KnownSources...)
	for _, g := range c.Generic {
		names = append(names, g.Name)
	}
	return names
}

// Source returns the door settings of a source, with defaults filled in.
func (c Config) Source(name string) SourceConfig {
	sc, ok := c.Sources[name]
	if !ok {
		for _, g := range c.Generic {
			if g.Name == name {
				sc = g.SourceConfig
			}
		}
	}
	if sc.Auth.Mode == "" {
		sc.Auth.Mode = AuthNone
	}
	if sc.MaxBodyBytes == 0 {
		sc.MaxBodyBytes = c.Limits.MaxMessageBytes
	}
	if sc.RateLimit.PerSecond > 0 && sc.RateLimit.Burst == 0 {
		sc.RateLimit.Burst = int(2*sc.RateLimit.PerSecond) + 1
	}
	return sc
}

// ParserLimits are the sources.Limits these settings mean.
func (c Config) ParserLimits() sources.Limits {
	l := sources.DefaultLimits()
	l.MaxBytes, l.MaxTextRune, l.MaxSkew = c.Limits.MaxMessageBytes, c.Limits.MaxTextRunes, c.Limits.MaxFutureSkew
	return l
}

// Key is the identity key the parsers hash with: the configured key, or pii.LocalKey in local mode; an
// error outside local mode without a proper key.
func (c Config) Key() (string, error) { return pii.ResolveKey(c.PIIKey, c.Local) }

// Registry builds the parsers of all configured sources.
func (c Config) Registry() (*sources.Registry, error) {
	key, err := c.Key()
	if err != nil {
		return nil, err
	}
	reg := sources.Default(key, c.ParserLimits())
	for _, g := range c.Generic {
		p, err := sources.NewGeneric(g.Name, g.Mapping, key, c.ParserLimits())
		if err != nil {
			return nil, err
		}
		reg.Add(p)
	}
	return reg, nil
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if _, err := c.Key(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Kafka.Brokers) == 0 {
		errs = append(errs, errors.New("kafka.brokers is empty"))
	}
	if c.Kafka.BatchSize < 1 || c.Kafka.BatchTimeout <= 0 || c.Kafka.Partitions < 1 {
		errs = append(errs, errors.New("kafka.batch_size, batch_timeout and partitions must be positive"))
	}
	if err := c.Kafka.Security().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("kafka: %w", err))
	}
	if c.Limits.MaxMessageBytes < 1 || c.Limits.MaxTextRunes < 1 || c.Limits.MaxBatchBytes < 1 || c.Limits.MaxBatchLines < 1 || c.Limits.MaxConcurrentRequests < 0 {
		errs = append(errs, errors.New("limits must be positive"))
	}
	for name := range c.Sources {
		if !isKnown(name) {
			errs = append(errs, fmt.Errorf("sources.%s: not a built-in source (configure it under generic)", name))
		}
	}
	seen := map[string]bool{}
	for _, g := range c.Generic {
		if seen[g.Name] {
			errs = append(errs, fmt.Errorf("generic %q configured twice", g.Name))
		}
		seen[g.Name] = true
		if _, err := sources.NewGeneric(g.Name, g.Mapping, "x", sources.DefaultLimits()); err != nil {
			errs = append(errs, err)
		}
	}
	loopback := isLoopback(c.Listen)
	for _, name := range c.SourceNames() {
		sc := c.Source(name)
		switch sc.Auth.Mode {
		case AuthNone:
			// vk.secret protects /vk/callback only; /v1/ingest/vk needs header auth like any other source.
			if !loopback && !c.AllowUnauthenticated {
				errs = append(errs, fmt.Errorf("source %s has no auth while listening on %s: configure auth or set allow_unauthenticated", name, c.Listen))
			}
		case AuthToken, AuthHMAC:
			if sc.Auth.Secret == "" {
				errs = append(errs, fmt.Errorf("source %s: auth %s needs a secret", name, sc.Auth.Mode))
			}
		default:
			errs = append(errs, fmt.Errorf("source %s: auth mode %q: want none, token or hmac", name, sc.Auth.Mode))
		}
		if sc.RateLimit.PerSecond < 0 || sc.MaxBodyBytes < 0 || sc.MaxBatchBytes < 0 {
			errs = append(errs, fmt.Errorf("source %s: negative limit", name))
		}
	}
	if p := c.VK.Poller; p.Enabled {
		if p.APIBase == "" || p.Interval <= 0 || p.PostsPerPoll < 1 || p.PostsPerPoll > 100 || len(p.Communities) == 0 {
			errs = append(errs, errors.New("vk.poller: needs api_base, a positive interval, posts_per_poll 1..100 and communities"))
		}
	}
	return errors.Join(errs...)
}

func isKnown(name string) bool {
	for _, k := range model.KnownSources {
		if k == name {
			return true
		}
	}
	return false
}

func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sign adds this auth's credential for body to a request's headers, as a client of the door must (the
// simulator signs with it): the token in its header, or the body's hex HMAC-SHA256 with "sha256=".
func (a AuthConfig) Sign(h http.Header, body []byte) {
	switch a.Mode {
	case AuthToken:
		if a.Header == "" || strings.EqualFold(a.Header, "Authorization") {
			h.Set("Authorization", "Bearer "+a.Secret)
			return
		}
		h.Set(a.Header, a.Secret)
	case AuthHMAC:
		name := a.Header
		if name == "" {
			name = "X-Signature"
		}
		mac := hmac.New(sha256.New, []byte(a.Secret))
		mac.Write(body)
		h.Set(name, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
}
