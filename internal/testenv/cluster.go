package testenv

import (
	"os"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

// ClusterAuth is the user the local clusters of deploy/local/cluster.sh let clients in as (user default
// has a random password there, as a production cluster's would be locked): TEPLOKARTA_CLUSTER_USER and
// TEPLOKARTA_CLUSTER_PASSWORD, with cluster.sh's defaults. The password holds a quote and a backslash, so
// every query that names it must escape it.
func ClusterAuth() chstore.Auth {
	a := chstore.Auth{User: os.Getenv("TEPLOKARTA_CLUSTER_USER"), Password: "tk'local\\pw"}
	if a.User == "" {
		a.User = "teplokarta"
	}
	if p, ok := os.LookupEnv("TEPLOKARTA_CLUSTER_PASSWORD"); ok {
		a.Password = p
	}
	return a
}

// ClusterEnv is ClusterAuth as the variables a teplokarta command reads (TEPLOKARTA_CLICKHOUSE_USER and
// _PASSWORD), appended to this process's environment: a child process started with it connects as that user.
func ClusterEnv() []string {
	a := ClusterAuth()
	return append(os.Environ(), "TEPLOKARTA_CLICKHOUSE_USER="+a.User, "TEPLOKARTA_CLICKHOUSE_PASSWORD="+a.Password)
}
