import { DataFrame, Field } from '@grafana/data';

import { t } from '../../i18n';

/** What the panel colours by: the heat index (default), all appeals, incidents, or appeals per 10,000 residents. */
export const METRICS = ['heat', 'appeals', 'incidents', 'per_10k'] as const;
export type Metric = (typeof METRICS)[number];

/** One municipality of the datasource's `heatmap` frame (plugin/pkg/plugin/heatmap.go). */
export interface MunicipalityRow {
  oktmo: string;
  name: string;
  /** the query's measure in the range (incidents unless the query asks for voices) */
  measure: number;
  /** all appeals in the range (voices), incidents in the range: the same whatever the measure */
  appeals: number;
  incidents: number;
  /** the measure over the baseline days before the range */
  baseline: number;
  heat: number;
  per10k: number | null;
  topCategories: string;
}

export interface Unknown {
  name: string;
  appeals: number;
  incidents: number;
}

export interface Joined {
  rows: Map<string, MunicipalityRow>;
  unknown?: Unknown;
}

function field(frame: DataFrame, name: string): Field | undefined {
  return frame.fields.find((f) => f.name === name);
}

/** heatmapFrame is the first frame shaped like the datasource's heatmap (oktmo + heat fields). */
export function heatmapFrame(series: DataFrame[]): DataFrame | undefined {
  return series.find((f) => field(f, 'oktmo') && field(f, 'heat'));
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * joinFrame indexes the heatmap frame by OKTMO. Frames of an older backend without the tooltip columns
 * still join: all appeals fall back to the measure and incidents/top categories stay empty.
 */
export function joinFrame(frame: DataFrame | undefined): Joined {
  const rows = new Map<string, MunicipalityRow>();
  if (!frame) {
    return { rows };
  }
  const get = (name: string) => field(frame, name)?.values;
  const oktmo = get('oktmo') ?? [];
  const [name, measure, voices, incidents, baseline, heat, per10k, top] = [
    get('municipality'),
    get('appeals'),
    get('voices'),
    get('incidents'),
    get('baseline'),
    get('heat'),
    get('per_10k'),
    get('top_categories'),
  ];
  for (let i = 0; i < oktmo.length; i++) {
    const code = String(oktmo[i]);
    const p = per10k?.[i];
    rows.set(code, {
      oktmo: code,
      name: String(name?.[i] ?? code),
      measure: num(measure?.[i]),
      appeals: num(voices ? voices[i] : measure?.[i]),
      incidents: num(incidents?.[i]),
      baseline: num(baseline?.[i]),
      heat: num(heat?.[i]),
      per10k: typeof p === 'number' && Number.isFinite(p) ? p : null,
      topCategories: String(top?.[i] ?? ''),
    });
  }
  const u = (frame.meta?.custom as { unknown?: Record<string, unknown> } | undefined)?.unknown;
  const unknown = u
    ? {
        name: String(u.municipality ?? 'не определено'),
        appeals: num(u.voices ?? u.appeals),
        incidents: num(u.incidents),
      }
    : undefined;
  return { rows, unknown };
}

/** value is what the chosen metric colours by; null = no data (per 10,000 without a known population). */
export function value(row: MunicipalityRow | undefined, metric: Metric): number | null {
  if (!row) {
    return null;
  }
  switch (metric) {
    case 'heat':
      return row.heat;
    case 'appeals':
      return row.appeals;
    case 'incidents':
      return row.incidents;
    case 'per_10k':
      return row.per10k;
  }
}

/** metricTitle is the metric's name in the user's language (Russian by default). */
export function metricTitle(m: Metric): string {
  return t(`map.metric.${m}`);
}

/** linkFor fills the data link template's ${oktmo} and ${municipality} (URL-encoded). */
export function linkFor(template: string, row: { oktmo: string; name: string }): string {
  return template
    .split('${oktmo}')
    .join(encodeURIComponent(row.oktmo))
    .split('${municipality}')
    .join(encodeURIComponent(row.name));
}
