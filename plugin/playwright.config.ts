import path from 'path';
import { defineConfig, devices } from '@playwright/test';
import type { PluginOptions } from '@grafana/plugin-e2e';

/**
 * @grafana/plugin-e2e tests against a running Grafana with the plugins and provisioning of docker-compose.yml:
 *   make plugin && docker compose up -d && GRAFANA_URL=http://localhost:3000 npx playwright test
 * Without GRAFANA_URL every test is skipped (`make test` uses the harness in harness/ instead).
 * Browsers: `npx playwright install chromium`, or PLAYWRIGHT_CHROMIUM=/usr/bin/chromium for the system one.
 */
export default defineConfig<PluginOptions>({
  testDir: './tests/e2e',
  fullyParallel: false,
  workers: 1,
  reporter: 'list',
  use: {
    baseURL: process.env.GRAFANA_URL || 'http://localhost:3000',
    trace: 'retain-on-failure',
    provisioningRootDir: path.join(__dirname, '..', 'deploy', 'grafana', 'provisioning'),
    launchOptions: process.env.PLAYWRIGHT_CHROMIUM ? { executablePath: process.env.PLAYWRIGHT_CHROMIUM } : {},
  },
  // Without a server there is nobody to log in to: the tests alone run, and skip themselves.
  projects: process.env.GRAFANA_URL
    ? [
        {
          name: 'auth',
          testDir: './node_modules/@grafana/plugin-e2e/dist/auth',
          testMatch: [/.*\.js/],
        },
        {
          name: 'run-tests',
          use: { ...devices['Desktop Chrome'], storageState: 'playwright/.auth/admin.json' },
          dependencies: ['auth'],
        },
      ]
    : [{ name: 'run-tests', use: { ...devices['Desktop Chrome'] } }],
});
