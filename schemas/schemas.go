// Package schemas embeds the project's message schemas and ClickHouse migrations so that every binary
// carries the exact contract it was built with.
package schemas

import "embed"

// ClickHouse holds the numbered migrations under clickhouse/, applied in lexical order.
//
//go:embed clickhouse/*.sql
var ClickHouse embed.FS

// JSON holds the JSON Schemas of the normalized appeal and of each source's raw envelope.
//
//go:embed json/*.json
var JSON embed.FS
