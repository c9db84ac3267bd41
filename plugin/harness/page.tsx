/**
 * The browser harness's page: the choropleth panel and the data source's query and config editors, rendered
 * with the real @grafana/ui, @grafana/data and @grafana/runtime on the frames the real backend produced
 * (pkg/plugin TestHarnessFrames). Only what a Grafana server would supply around a plugin is stood in for:
 * the theme, the backend's HTTP answers (served from the recorded files) and the template service.
 */
import React, { ComponentType, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { of } from 'rxjs';
import {
  createTheme,
  DataSourceInstanceSettings,
  DataSourceSettings,
  dateTime,
  LoadingState,
  PanelData,
  PanelPlugin,
  PanelProps,
  ThemeContext,
  TypedVariableModel,
} from '@grafana/data';
import { BackendSrv, setBackendSrv, setTemplateSrv, TemplateSrv, toDataQueryResponse } from '@grafana/runtime';

import { ChoroplethPanel } from '../src/panels/choropleth/ChoroplethPanel';
import { ChoroplethOptions, DEFAULT_OPTIONS } from '../src/panels/choropleth/types';
import { ConfigEditor } from '../src/components/ConfigEditor';
import { QueryEditor } from '../src/components/QueryEditor';
import { DataSource } from '../src/datasource';
import { AppealsDataSourceOptions, AppealsQuery, AppealsSecureJsonData } from '../src/types';

declare global {
  interface Window {
    harnessReady?: boolean;
    harnessError?: string;
    define?: ((deps: string[], factory: (...mods: unknown[]) => unknown) => void) & { amd?: boolean };
  }
}

/** Set by build.mjs --shipped: draw the webpack-built dist-panel/module.js instead of the source. */
declare const HARNESS_SHIPPED: boolean;

/**
 * shippedPanel loads the panel plugin as Grafana does: an AMD module whose dependencies (react, @grafana/*,
 * @emotion/css) the host supplies. Only bundled with --shipped (esbuild drops the branch otherwise).
 */
async function shippedPanel(): Promise<ComponentType<PanelProps<ChoroplethOptions>>> {
  const src = '/public/plugins/teplokarta-choropleth-panel/module.js';
  const deps: Record<string, unknown> = {
    react: React,
    '@grafana/data': await import('@grafana/data'),
    '@grafana/ui': await import('@grafana/ui'),
    '@grafana/runtime': await import('@grafana/runtime'),
    '@emotion/css': await import('@emotion/css'),
    module: { uri: src },
  };
  return new Promise((resolve, reject) => {
    const define = (names: string[], factory: (...mods: unknown[]) => unknown) => {
      const missing = names.filter((n) => !(n in deps));
      if (missing.length > 0) {
        reject(new Error(`shipped panel needs ${missing.join(', ')}`));
        return;
      }
      const exports = factory(...names.map((n) => deps[n])) as { plugin?: PanelPlugin<ChoroplethOptions> };
      if (!exports.plugin?.panel) {
        reject(new Error(`${src} exports no panel plugin`));
        return;
      }
      resolve(exports.plugin.panel);
    };
    window.define = Object.assign(define, { amd: true });
    const script = document.createElement('script');
    script.src = src;
    script.onerror = () => reject(new Error(`${src} did not load`));
    document.head.appendChild(script);
  });
}

const params = new URLSearchParams(window.location.search);
const mode = params.get('theme') === 'light' ? 'light' : 'dark';
const metric = (params.get('metric') ?? DEFAULT_OPTIONS.metric) as ChoroplethOptions['metric'];

async function json(path: string) {
  const r = await fetch(path);
  if (!r.ok) {
    throw new Error(`${path}: HTTP ${r.status}`);
  }
  return r.json();
}

function backendSrv(resources: Record<string, unknown>): BackendSrv {
  const answer = (url: string) => {
    const name = url.replace(/.*\/resources\//, '').replace(/\?.*/, '');
    if (!(name in resources)) {
      throw new Error(`harness: no recorded answer for ${url}`);
    }
    return resources[name];
  };
  return {
    get: async (url: string) => answer(url),
    fetch: (o: { url: string }) =>
      of({ data: answer(o.url), status: 200, ok: true, headers: new Headers(), url: o.url }),
  } as unknown as BackendSrv;
}

const templateSrv = {
  getVariables: () => [] as TypedVariableModel[],
  replace: (s?: string) => s ?? '',
  containsTemplate: () => false,
  updateTimeRange: () => {},
} as unknown as TemplateSrv;

const settings: DataSourceInstanceSettings<AppealsDataSourceOptions> = {
  id: 1,
  uid: 'teplokarta',
  type: 'teplokarta-appeals-datasource',
  name: 'teplokarta',
  access: 'proxy',
  readOnly: false,
  jsonData: { host: '127.0.0.1', port: 9000, database: 'teplokarta', region: 'RU-RYA' },
  meta: { id: 'teplokarta-appeals-datasource' } as DataSourceInstanceSettings['meta'],
};

function Editors({ ds }: { ds: DataSource }) {
  const [query, setQuery] = useState<AppealsQuery>({
    refId: 'A',
    queryType: 'heatmap',
    measure: 'incidents',
    baselineDays: 90,
  });
  const [options, setOptions] = useState<DataSourceSettings<AppealsDataSourceOptions, AppealsSecureJsonData>>({
    ...(settings as unknown as DataSourceSettings<AppealsDataSourceOptions, AppealsSecureJsonData>),
    orgId: 1,
    typeName: 'teplokarta',
    typeLogoUrl: '',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    secureJsonFields: {},
    version: 1,
  });
  return (
    <>
      <section data-testid="harness-query-editor">
        <QueryEditor datasource={ds} query={query} onChange={setQuery} onRunQuery={() => {}} />
      </section>
      <section data-testid="harness-config-editor">
        <ConfigEditor options={options} onOptionsChange={setOptions} />
      </section>
    </>
  );
}

async function main() {
  const [body, resources, range] = await Promise.all([
    json('/frames/query.json'),
    json('/frames/resources.json'),
    json('/frames/range.json'),
  ]);
  setBackendSrv(backendSrv(resources));
  setTemplateSrv(templateSrv);
  // The same conversion Grafana's runtime applies to a /api/ds/query answer.
  const series = toDataQueryResponse({ data: body }).data;
  const timeRange = {
    from: dateTime(range.from),
    to: dateTime(range.to),
    raw: { from: dateTime(range.from), to: dateTime(range.to) },
  };
  const data: PanelData = { series, state: LoadingState.Done, timeRange };
  const theme = createTheme({ colors: { mode } });
  document.body.style.background = theme.colors.background.canvas;
  document.body.style.color = theme.colors.text.primary;
  const ds = new DataSource(settings);
  const replaceVariables = (s: string) => s.split('${__url_time_range}').join(`from=${range.from}&to=${range.to}`);
  const width = Number(params.get('width') ?? 900);
  const height = Number(params.get('height') ?? 620);
  const Panel = HARNESS_SHIPPED ? await shippedPanel() : ChoroplethPanel;

  createRoot(document.getElementById('root')!).render(
    <ThemeContext.Provider value={theme}>
      <div data-testid="harness-panel" style={{ width, height, background: theme.colors.background.primary }}>
        <Panel
          id={1}
          data={data}
          timeRange={timeRange}
          timeZone="utc"
          options={{ ...DEFAULT_OPTIONS, metric }}
          transparent={false}
          width={width}
          height={height}
          fieldConfig={{ defaults: {}, overrides: [] }}
          renderCounter={1}
          title="Картограмма"
          eventBus={undefined as never}
          onOptionsChange={() => {}}
          onFieldConfigChange={() => {}}
          replaceVariables={replaceVariables}
          onChangeTimeRange={() => {}}
        />
      </div>
      <Editors ds={ds} />
    </ThemeContext.Provider>
  );
  window.harnessReady = true;
}

main().catch((e) => {
  window.harnessError = String(e?.message ?? e);
  console.error('harness:', e);
});
