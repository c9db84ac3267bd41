import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/** Plugin id, fixed by the contract with the backend (plugin/pkg). */
export const PLUGIN_ID = 'teplokarta-appeals-datasource';

export const QUERY_TYPES = ['heatmap', 'timeseries', 'top', 'sla', 'appeals', 'planning'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const MEASURES = ['incidents', 'voices'] as const;
export type Measure = (typeof MEASURES)[number];

/** groupBy values accepted for the "timeseries" query type. */
export const TIMESERIES_GROUP_BY = ['category', 'municipality', 'source', 'agency', 'none'] as const;
/** groupBy values accepted for the "sla" query type. */
export const SLA_GROUP_BY = ['agency', 'municipality'] as const;
export type GroupBy = (typeof TIMESERIES_GROUP_BY)[number];

export const DIMENSIONS = ['category', 'theme', 'agency', 'municipality'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Filter keys of the query model; an empty or absent array means "no filter". */
export const FILTER_KEYS = [
  'regions',
  'municipalities',
  'categories',
  'themes',
  'sources',
  'agencies',
  'statuses',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string[]>>;

/** Option-list resources served by the backend (GET /api/datasources/uid/<uid>/resources/<name>). */
export const OPTION_RESOURCES = ['municipalities', 'categories', 'themes', 'agencies', 'sources', 'statuses'] as const;
export type OptionResource = (typeof OPTION_RESOURCES)[number];

/** Which resource fills which filter (regions have no resource: free input + the configured default region). */
export const FILTER_RESOURCE: Record<FilterKey, OptionResource | undefined> = {
  regions: undefined,
  municipalities: 'municipalities',
  categories: 'categories',
  themes: 'themes',
  sources: 'sources',
  agencies: 'agencies',
  statuses: 'statuses',
};

/** One element of an option-list resource: `[{"value": "...", "text": "..."}]`. */
export interface ResourceOption {
  value: string;
  text: string;
}

export const LIMIT_MAX = 10000;
export const DEFAULT_TOP_LIMIT = 10;
export const DEFAULT_APPEALS_LIMIT = 100;
export const DEFAULT_BASELINE_DAYS = 90;

export interface AppealsQuery extends DataQuery {
  queryType?: QueryType;
  filters?: Filters;
  measure?: Measure;
  /** timeseries: category|municipality|source|agency|none; sla: agency|municipality */
  groupBy?: GroupBy;
  /** top only */
  dimension?: Dimension;
  /** top (default 10) and appeals (default 100), at most 10000 */
  limit?: number;
  /** heatmap only, default 90 */
  baselineDays?: number;
  /** timeseries only: stream live counts over Grafana Live channel ds/<uid>/counts instead of a normal query */
  live?: boolean;
}

export const DEFAULT_QUERY: Partial<AppealsQuery> = {
  queryType: 'heatmap',
  measure: 'incidents',
  baselineDays: DEFAULT_BASELINE_DAYS,
  filters: {},
};

/** Query model of the VariableQueryEditor / metricFindQuery. */
export interface VariableQuery extends DataQuery {
  resource?: OptionResource;
}

export const DEFAULT_PORT = 9000;
export const DEFAULT_DATABASE = 'teplokarta';
export const DEFAULT_REGION = 'RU-RYA';

/** jsonData of a data source instance (fixed contract with the backend). */
export interface AppealsDataSourceOptions extends DataSourceJsonData {
  host?: string;
  port?: number;
  database?: string;
  username?: string;
  tls?: boolean;
  tlsSkipVerify?: boolean;
  region?: string;
  /** host:port, or comma-separated Sentinels (with redisMasterName) or Redis Cluster seed nodes. */
  redisAddr?: string;
  /** Sentinel master name; empty: no Sentinel. */
  redisMasterName?: string;
  boundaryFile?: string;
}

/** secureJsonData: only ever sent to the backend. */
export interface AppealsSecureJsonData {
  password?: string;
  redisPassword?: string;
  redisSentinelPassword?: string;
}

/** Clamp a limit to 1..LIMIT_MAX; undefined/NaN/≤0 → the default for the query type. */
export function normalizeLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit) || limit <= 0) {
    return fallback;
  }
  return Math.min(Math.floor(limit), LIMIT_MAX);
}

export function defaultLimit(queryType: QueryType | undefined): number | undefined {
  switch (queryType) {
    case 'top':
      return DEFAULT_TOP_LIMIT;
    case 'appeals':
      return DEFAULT_APPEALS_LIMIT;
    default:
      return undefined;
  }
}

export function isQueryType(v: unknown): v is QueryType {
  return typeof v === 'string' && (QUERY_TYPES as readonly string[]).includes(v);
}

export function isOptionResource(v: unknown): v is OptionResource {
  return typeof v === 'string' && (OPTION_RESOURCES as readonly string[]).includes(v);
}
