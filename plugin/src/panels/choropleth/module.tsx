import { PanelPlugin } from '@grafana/data';

import { ChoroplethPanel } from './ChoroplethPanel';
import { metricTitle, METRICS } from './join';
import { ChoroplethOptions, DEFAULT_OPTIONS } from './types';

export const plugin = new PanelPlugin<ChoroplethOptions>(ChoroplethPanel).setPanelOptions((builder) =>
  builder
    .addRadio({
      path: 'metric',
      name: 'Цвет по',
      description:
        'Heat index (against the municipality’s own baseline), all appeals, incidents, or per 10,000 residents',
      defaultValue: DEFAULT_OPTIONS.metric,
      settings: { options: METRICS.map((m) => ({ value: m, label: metricTitle(m) })) },
    })
    .addTextInput({
      path: 'geojson',
      name: 'Boundary GeoJSON',
      description:
        'Municipal boundaries keyed by OKTMO (properties.oktmo or id): a file inside this plugin, a site path (/…) or a URL',
      defaultValue: DEFAULT_OPTIONS.geojson,
    })
    .addTextInput({
      path: 'baseLayerUrl',
      name: 'Base layer URL',
      description:
        'Optional XYZ tiles, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty = none (works offline)',
      defaultValue: DEFAULT_OPTIONS.baseLayerUrl,
    })
    .addTextInput({
      path: 'link',
      name: 'Data link',
      description: 'Opened on click; ${oktmo}, ${municipality} and dashboard variables are filled',
      defaultValue: DEFAULT_OPTIONS.link,
    })
    .addBooleanSwitch({ path: 'showLegend', name: 'Legend', defaultValue: DEFAULT_OPTIONS.showLegend })
);
