import pluginJson from './plugin.json';

// The fixed contract with the backend (plugin/pkg) and the Grafana provisioning (deploy/grafana).
describe('plugin.json', () => {
  it('declares the agreed id, name, executable and capabilities', () => {
    expect(pluginJson).toMatchObject({
      id: 'teplokarta-appeals-datasource',
      name: 'teplokarta — обращения граждан',
      type: 'datasource',
      backend: true,
      executable: 'gpx_teplokarta',
      alerting: true,
      streaming: true,
      metrics: true,
    });
    expect(pluginJson.dependencies.grafanaDependency).toBe('>=12.4.0'); // the @grafana/* version it builds with (deploy/versions_test.go)
  });
});
