package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/redisx"
)

// Settings is the datasource configuration: jsonData plus the decrypted secureJsonData. The JSON names are
// the contract with the frontend's config editor.
type Settings struct {
	Host          string `json:"host"`          // ClickHouse host; required
	Port          int    `json:"port"`          // native protocol port; default 9000
	Database      string `json:"database"`      // default "teplokarta"
	Username      string `json:"username"`      // default "default"
	TLS           bool   `json:"tls"`           // connect over TLS
	TLSSkipVerify bool   `json:"tlsSkipVerify"` // accept any server certificate (test clusters only)
	Region        string `json:"region"`        // default "RU-RYA": the only region its queries read (filters.regions may name it, nothing else)
	// Timezone is the region's calendar: the IANA zone whose days, months and years ranges are widened to
	// and planning's years are cut at; default the region's zone (internal/model: Europe/Moscow for RU-RYA).
	Timezone string `json:"timezone"`
	// RedisAddr, optional, caches variable lists when set: host:port, or a comma-separated list of the
	// Sentinels (with RedisMasterName) or of Redis Cluster seed nodes (several, without a master name).
	RedisAddr       string `json:"redisAddr"`
	RedisMasterName string `json:"redisMasterName"` // Sentinel master name; empty: no Sentinel
	BoundaryFile    string `json:"boundaryFile"`    // optional GeoJSON file of municipality polygons
	// StreamIntervalMs is how often the Live stream pushes a frame; default 10000, minimum 500.
	StreamIntervalMs int `json:"streamIntervalMs"`
	// CacheTTLSeconds bounds how stale a cached variable list may be; default 60, 0 = default, <0 = no cache.
	CacheTTLSeconds int `json:"cacheTTLSeconds"`
	// QueryTimeoutSeconds bounds one ClickHouse query; default 30.
	QueryTimeoutSeconds int `json:"queryTimeoutSeconds"`
	// MaxReplicaDelaySeconds: on a ClickHouse cluster, reads skip a replica further behind than this while
	// another is closer (max_replica_delay_for_distributed_queries), so a replica catching up after a
	// restart does not make the map's counts dip; default 10 (0 = default), negative: the server's
	// profile decides (5 minutes unless configured).
	MaxReplicaDelaySeconds int `json:"maxReplicaDelaySeconds"`

	Password              string `json:"-"` // secureJsonData.password
	RedisPassword         string `json:"-"` // secureJsonData.redisPassword
	RedisSentinelPassword string `json:"-"` // secureJsonData.redisSentinelPassword
}

// Defaults of the optional settings.
const (
	DefaultPort             = 9000
	DefaultDatabase         = "teplokarta"
	DefaultUser             = "default"
	DefaultRegion           = "RU-RYA"
	DefaultStreamIntervalMs = 10000
	DefaultCacheTTLSeconds  = 60
	DefaultQueryTimeout     = 30
)

var (
	identRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	regionRe = regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]{1,3}$`)
	// zoneRe: the zone is spliced into SQL as a literal (ClickHouse takes only a constant time zone).
	zoneRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)
)

// LoadSettings decodes Grafana's instance settings and fills the defaults.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var c Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &c); err != nil {
			return c, fmt.Errorf("settings: jsonData: %w", err)
		}
	}
	c.Password = s.DecryptedSecureJSONData["password"]
	c.RedisPassword = s.DecryptedSecureJSONData["redisPassword"]
	c.RedisSentinelPassword = s.DecryptedSecureJSONData["redisSentinelPassword"]
	c.applyDefaults()
	return c, c.Validate()
}

func (c *Settings) applyDefaults() {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Username == "" {
		c.Username = DefaultUser
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Timezone == "" {
		c.Timezone = model.RegionZone(c.Region)
	}
	if c.StreamIntervalMs == 0 {
		c.StreamIntervalMs = DefaultStreamIntervalMs
	}
	if c.CacheTTLSeconds == 0 {
		c.CacheTTLSeconds = DefaultCacheTTLSeconds
	}
	if c.QueryTimeoutSeconds == 0 {
		c.QueryTimeoutSeconds = DefaultQueryTimeout
	}
	if c.MaxReplicaDelaySeconds == 0 {
		c.MaxReplicaDelaySeconds = int(chstore.DefaultMaxReplicaDelay / time.Second)
	}
}

// Validate reports every configuration mistake at once, so the config page shows them together.
func (c Settings) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("ClickHouse host is empty"))
	}
	if c.Port <= 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("ClickHouse port %d is out of range", c.Port))
	}
	if !identRe.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("database name %q must be an identifier", c.Database))
	}
	if !regionRe.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region %q is not an ISO 3166-2 code like RU-RYA", c.Region))
	}
	if !zoneRe.MatchString(c.Timezone) {
		errs = append(errs, fmt.Errorf("time zone %q is not an IANA name like Europe/Moscow", c.Timezone))
	} else if _, err := model.LoadZone(c.Timezone); err != nil {
		errs = append(errs, err)
	}
	if c.StreamIntervalMs < 500 {
		errs = append(errs, fmt.Errorf("stream interval %d ms is below 500 ms", c.StreamIntervalMs))
	}
	if c.QueryTimeoutSeconds < 0 {
		errs = append(errs, errors.New("query timeout must not be negative"))
	}
	if c.RedisAddr != "" {
		errs = append(errs, c.Redis().Validate())
	} else if c.RedisMasterName != "" {
		errs = append(errs, errors.New("a Redis master name needs the Sentinels' addresses"))
	}
	return errors.Join(errs...)
}

// Redis is the cache's Redis configuration (one server, Sentinels or a Cluster, as the service's flags).
func (c Settings) Redis() redisx.Config {
	r := redisx.DefaultConfig()
	r.Addrs, r.MasterName = redisx.SplitAddrs(c.RedisAddr), c.RedisMasterName
	r.Password, r.SentinelPassword, r.DialTimeout = c.RedisPassword, c.RedisSentinelPassword, 3*time.Second
	return r
}

// Addr is the ClickHouse native address.
func (c Settings) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }

// StreamInterval is the Live push period.
func (c Settings) StreamInterval() time.Duration {
	return time.Duration(c.StreamIntervalMs) * time.Millisecond
}

// CacheTTL is the variable-list cache lifetime; zero disables caching.
func (c Settings) CacheTTL() time.Duration {
	if c.CacheTTLSeconds < 0 {
		return 0
	}
	return time.Duration(c.CacheTTLSeconds) * time.Second
}

// Location is the region's zone (Validate loaded it).
func (c Settings) Location() *time.Location {
	l, err := model.LoadZone(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return l
}
