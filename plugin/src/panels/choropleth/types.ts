import { Metric } from './join';

export const PANEL_ID = 'teplokarta-choropleth-panel';

/** The boundary file shipped with the panel (copied by `make -C plugin geo`); ODbL, © OpenStreetMap contributors. */
export const DEFAULT_GEOJSON = 'geo/ryazan-municipalities.geojson';
/** Click on a municipality: the ops dashboard filtered to it, over the same time range. */
export const DEFAULT_LINK = '/d/teplokarta-ops/?var-municipality=${oktmo}&${__url_time_range}';

export interface ChoroplethOptions {
  metric: Metric;
  /** boundary GeoJSON: a path inside the panel plugin's directory, a site path (/…) or a URL */
  geojson: string;
  /** optional XYZ base layer, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty = none (offline) */
  baseLayerUrl: string;
  /** data link template; ${oktmo}, ${municipality} and dashboard variables are filled */
  link: string;
  showLegend: boolean;
}

export const DEFAULT_OPTIONS: ChoroplethOptions = {
  metric: 'heat',
  geojson: DEFAULT_GEOJSON,
  baseLayerUrl: '',
  link: DEFAULT_LINK,
  showLegend: true,
};
