// Command gpx_teplokarta is the backend of the teplokarta-appeals-datasource Grafana plugin.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
)

func main() {
	// Grafana starts the binary and talks to it over gRPC; Manage blocks until Grafana stops it.
	if err := datasource.Manage(plugin.ID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("plugin exited", "error", err.Error())
		os.Exit(1)
	}
}
