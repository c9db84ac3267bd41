# The teplokarta Grafana plugins as an init-container image (deploy/k8s/base/grafana.yaml copies /plugins
# into Grafana's plugin folder). From the repository root, after `make plugin`:
#   docker build -f deploy/k8s/grafana-plugins.Dockerfile -t teplokarta-grafana-plugins:local .
FROM busybox:1.37
COPY plugin/dist /plugins/teplokarta-appeals-datasource
COPY plugin/dist-panel /plugins/teplokarta-choropleth-panel
USER 472:472
