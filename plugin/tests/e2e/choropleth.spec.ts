import { expect, test } from '@grafana/plugin-e2e';

// These need the compose stack (Grafana with both plugins and deploy/grafana provisioned).
test.skip(!process.env.GRAFANA_URL, 'set GRAFANA_URL (e.g. http://localhost:3000) to run against a Grafana server');

test('the heat-map dashboard draws the 29 municipalities with legend and attribution', async ({
  gotoDashboardPage,
  page,
}) => {
  await gotoDashboardPage({ uid: 'teplokarta-heatmap' });
  await expect(page.getByTestId('choropleth-area')).toHaveCount(29);
  await expect(page.getByTestId('choropleth-legend')).toContainText('Индекс тепла');
  await expect(page.getByTestId('choropleth-attribution')).toHaveText('© OpenStreetMap contributors');
});

test('hovering a municipality shows its tooltip; its link opens the ops dashboard', async ({
  gotoDashboardPage,
  page,
}) => {
  await gotoDashboardPage({ uid: 'teplokarta-heatmap' });
  const ryazan = page.locator('[data-oktmo="61701000"]');
  await ryazan.hover();
  await expect(page.getByTestId('choropleth-tooltip')).toContainText('Рязань');
  await expect(page.locator('a:has([data-oktmo="61701000"])')).toHaveAttribute(
    'href',
    /\/d\/teplokarta-ops\/\?var-municipality=61701000/
  );
});

test('the data source passes its health check', async ({ gotoDataSourceConfigPage, readProvisionedDataSource }) => {
  const ds = await readProvisionedDataSource({ fileName: 'teplokarta.yaml' });
  const configPage = await gotoDataSourceConfigPage(ds.uid);
  await expect(configPage.saveAndTest()).toBeOK();
});
