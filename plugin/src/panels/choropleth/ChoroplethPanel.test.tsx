import fs from 'fs';
import path from 'path';
import React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createDataFrame, dateTime, FieldType, LoadingState, PanelProps } from '@grafana/data';
import { config } from '@grafana/runtime';

import { ChoroplethPanel, geojsonUrl } from './ChoroplethPanel';
import { ChoroplethOptions, DEFAULT_OPTIONS } from './types';

const geojson = fs.readFileSync(path.join(__dirname, 'geo', 'ryazan-municipalities.geojson'), 'utf8');

// Рязань hot (heat 3), Касимов none at all (heat 1), Шиловский quiet against its baseline (heat 0.25).
const frame = createDataFrame({
  name: 'heatmap',
  meta: { custom: { unknown: { municipality: 'не определено', appeals: 7, incidents: 5, voices: 7 } } },
  fields: [
    { name: 'oktmo', type: FieldType.string, values: ['61701000', '61705000', '61658000'] },
    { name: 'municipality', type: FieldType.string, values: ['Рязань', 'Касимов', 'Шиловский район'] },
    { name: 'appeals', type: FieldType.number, values: [20, 0, 0] },
    { name: 'baseline', type: FieldType.number, values: [40, 0, 9] },
    { name: 'per_10k', type: FieldType.number, values: [0.4, null, null] },
    { name: 'heat', type: FieldType.number, values: [3, 1, 0.25] },
    { name: 'incidents', type: FieldType.number, values: [20, 0, 0] },
    { name: 'voices', type: FieldType.number, values: [26, 0, 0] },
    { name: 'top_categories', type: FieldType.string, values: ['ЖКХ 12 · Дороги 8', '', ''] },
  ],
});

function props(over: Partial<ChoroplethOptions> = {}, width = 800, height = 600): PanelProps<ChoroplethOptions> {
  const timeRange = { from: dateTime(0), to: dateTime(1), raw: { from: dateTime(0), to: dateTime(1) } };
  return {
    id: 1,
    data: { series: [frame], state: LoadingState.Done, timeRange },
    timeRange,
    timeZone: 'utc',
    options: { ...DEFAULT_OPTIONS, ...over },
    transparent: false,
    width,
    height,
    fieldConfig: { defaults: {}, overrides: [] },
    renderCounter: 1,
    title: 'map',
    eventBus: undefined as never,
    onOptionsChange: jest.fn(),
    onFieldConfigChange: jest.fn(),
    replaceVariables: (s: string) => s.replace('${__url_time_range}', 'from=0&to=1'),
    onChangeTimeRange: jest.fn(),
  };
}

let fetched: string[];
beforeEach(() => {
  fetched = [];
  global.fetch = jest.fn(async (url: RequestInfo | URL) => {
    fetched.push(String(url));
    const ok = String(url).endsWith('ryazan-municipalities.geojson');
    return { ok, status: ok ? 200 : 404, json: async () => JSON.parse(geojson) } as Response;
  }) as typeof fetch;
});

const area = (oktmo: string) => document.querySelector(`[data-oktmo="${oktmo}"]`) as SVGPathElement;

describe('ChoroplethPanel', () => {
  it('draws every municipality of the boundary file, coloured from the frame', async () => {
    render(<ChoroplethPanel {...props()} />);
    await waitFor(() => expect(screen.getAllByTestId('choropleth-area')).toHaveLength(29));
    expect(fetched).toEqual(['/public/plugins/teplokarta-choropleth-panel/geo/ryazan-municipalities.geojson']);
    expect(area('61701000').style.fill).toBe('rgb(215, 25, 28)'); // hottest: the red end
    expect(area('61658000').style.fill).toBe('rgb(44, 123, 182)'); // quietest: the blue end
    // a municipality missing from the frame is "no data", not a colour of the scale
    expect(area('61602000').style.fill).not.toMatch(/^rgb\((44|215),/);
  });

  it('shows the legend, the unresolved appeals and the attribution', async () => {
    render(<ChoroplethPanel {...props()} />);
    await waitFor(() => expect(screen.getAllByTestId('choropleth-area')).toHaveLength(29));
    expect(screen.getByTestId('choropleth-legend')).toHaveTextContent('Индекс тепла');
    expect(screen.getByTestId('choropleth-legend')).toHaveTextContent('3,00');
    expect(screen.getByTestId('choropleth-unknown')).toHaveTextContent('не определено: 7');
    expect(screen.getByTestId('choropleth-attribution')).toHaveTextContent('© OpenStreetMap contributors');
  });

  it('colours by appeals on a linear scale when asked, and hides the legend', async () => {
    render(<ChoroplethPanel {...props({ metric: 'appeals', showLegend: false })} />);
    await waitFor(() => expect(screen.getAllByTestId('choropleth-area')).toHaveLength(29));
    expect(area('61701000').style.fill).toBe('rgb(215, 25, 28)');
    expect(area('61705000').style.fill).toBe('rgb(44, 123, 182)');
    expect(screen.queryByTestId('choropleth-legend')).toBeNull();
  });

  it('links each municipality to the ops dashboard and shows its tooltip on hover', async () => {
    render(<ChoroplethPanel {...props()} />);
    await waitFor(() => expect(screen.getAllByTestId('choropleth-area')).toHaveLength(29));
    expect(area('61701000').closest('a')?.getAttribute('href')).toBe(
      '/d/teplokarta-ops/?var-municipality=61701000&from=0&to=1'
    );
    fireEvent.mouseMove(area('61701000'), { clientX: 100, clientY: 100 });
    const tip = screen.getByTestId('choropleth-tooltip');
    for (const text of [
      'Рязань',
      'Обращения26',
      'Инциденты20',
      'Базовый уровень40',
      'Индекс тепла3,00',
      'ЖКХ 12 · Дороги 8',
    ]) {
      expect(tip).toHaveTextContent(text);
    }
  });

  it("speaks the user's language: English labels for an English Grafana", async () => {
    const cfg = config as unknown as { bootData: { user: { language?: string } } };
    const saved = cfg.bootData;
    cfg.bootData = { ...saved, user: { language: 'en-US' } };
    try {
      render(<ChoroplethPanel {...props()} />);
      await waitFor(() => expect(screen.getAllByTestId('choropleth-area')).toHaveLength(29));
      expect(screen.getByTestId('choropleth-legend')).toHaveTextContent('Heat index');
      fireEvent.mouseMove(area('61701000'), { clientX: 10, clientY: 10 });
      expect(screen.getByTestId('choropleth-tooltip')).toHaveTextContent('Appeals26');
      expect(screen.getByTestId('choropleth-tooltip')).toHaveTextContent('Top categories');
    } finally {
      cfg.bootData = saved;
    }
  });

  it('redraws for a new size', async () => {
    const { rerender } = render(<ChoroplethPanel {...props()} />);
    await waitFor(() => expect(screen.getAllByTestId('choropleth-area')).toHaveLength(29));
    const before = area('61701000').getAttribute('d');
    rerender(<ChoroplethPanel {...props({}, 400, 300)} />);
    expect(area('61701000').getAttribute('d')).not.toBe(before);
    expect(screen.getByTestId('choropleth-map').getAttribute('width')).toBe('400');
  });

  it('says so when the boundary file cannot be read', async () => {
    render(<ChoroplethPanel {...props({ geojson: 'geo/missing.geojson' })} />);
    expect(await screen.findByText(/Граница не загружена: .*missing\.geojson: HTTP 404/)).toBeInTheDocument();
  });
});

describe('geojsonUrl', () => {
  it.each([
    ['geo/x.geojson', '/public/plugins/teplokarta-choropleth-panel/geo/x.geojson'],
    ['/public/maps/x.geojson', '/public/maps/x.geojson'],
    ['https://example.org/x.geojson', 'https://example.org/x.geojson'],
  ])('%s → %s', (option, want) => {
    expect(geojsonUrl(option)).toBe(want);
  });
});
