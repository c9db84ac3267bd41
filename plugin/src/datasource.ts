import {
  CoreApp,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  LiveChannelAddress,
  LiveChannelScope,
  MetricFindValue,
  ScopedVars,
  StreamingFrameAction,
  StreamingFrameOptions,
} from '@grafana/data';
import { DataSourceWithBackend, getGrafanaLiveSrv, getTemplateSrv } from '@grafana/runtime';
import { merge, Observable } from 'rxjs';

import { expandFilters } from './templating';
import {
  AppealsDataSourceOptions,
  AppealsQuery,
  DEFAULT_BASELINE_DAYS,
  DEFAULT_QUERY,
  DEFAULT_REGION,
  defaultLimit,
  isOptionResource,
  isQueryType,
  normalizeLimit,
  OptionResource,
  ResourceOption,
  SLA_GROUP_BY,
  TIMESERIES_GROUP_BY,
  VariableQuery,
} from './types';
import { AppealsVariableSupport } from './variables';

/** Grafana Live path served by the backend's RunStream: counts/<minutes> carries the last minutes. */
export const LIVE_PATH = 'counts';
/** Window of a live query without a time range, and the longest the backend serves (plugin/pkg/plugin/stream.go). */
export const LIVE_DEFAULT_MINUTES = 60;
export const LIVE_MAX_MINUTES = 24 * 60;

/** Whole minutes of the dashboard range (from, to in ms), the window the live channel carries. */
export function liveMinutes(from?: number, to?: number): number {
  if (from === undefined || to === undefined || !(to > from)) {
    return LIVE_DEFAULT_MINUTES;
  }
  return Math.min(LIVE_MAX_MINUTES, Math.max(1, Math.ceil((to - from) / 60_000)));
}

/**
 * Every frame the backend pushes is the whole window as ClickHouse has it now (late rows included), so the
 * buffer replaces what it holds; appending would count re-sent minutes again.
 */
export function liveBufferOptions(): Partial<StreamingFrameOptions> {
  return { maxLength: LIVE_MAX_MINUTES * 100, action: StreamingFrameAction.Replace };
}
/** How long option lists from the resources are reused by the editors. */
export const OPTIONS_TTL_MS = 5 * 60 * 1000;

/** Fills defaults and drops settings that do not apply to the query type (the backend checks again). */
export function normalizeQuery(query: AppealsQuery): AppealsQuery {
  const queryType = isQueryType(query.queryType) ? query.queryType : DEFAULT_QUERY.queryType!;
  const out: AppealsQuery = {
    ...query,
    queryType,
    measure: query.measure === 'voices' ? 'voices' : 'incidents',
  };
  if (queryType === 'timeseries') {
    out.groupBy = (TIMESERIES_GROUP_BY as readonly string[]).includes(query.groupBy ?? '') ? query.groupBy : 'none';
    out.live = query.live === true;
  } else {
    delete out.live;
  }
  if (queryType === 'sla') {
    out.groupBy = (SLA_GROUP_BY as readonly string[]).includes(query.groupBy ?? '') ? query.groupBy : 'agency';
  }
  if (queryType !== 'timeseries' && queryType !== 'sla') {
    delete out.groupBy;
  }
  if (queryType === 'top') {
    out.dimension = query.dimension ?? 'category';
  } else {
    delete out.dimension;
  }
  const fallback = defaultLimit(queryType);
  if (fallback !== undefined) {
    out.limit = normalizeLimit(query.limit, fallback);
  } else {
    delete out.limit;
  }
  if (queryType === 'heatmap') {
    out.baselineDays = normalizeLimit(query.baselineDays, DEFAULT_BASELINE_DAYS);
  } else {
    delete out.baselineDays;
  }
  return out;
}

export function isLiveQuery(query: AppealsQuery): boolean {
  return query.queryType === 'timeseries' && query.live === true;
}

function toOptions(resource: string, body: unknown): ResourceOption[] {
  if (!Array.isArray(body)) {
    throw new Error(`resource ${resource}: expected an array of {value, text}`);
  }
  const out: ResourceOption[] = [];
  for (const item of body) {
    if (item === null || typeof item !== 'object') {
      continue;
    }
    const { value, text } = item as { value?: unknown; text?: unknown };
    if (value === undefined || value === null || value === '') {
      continue;
    }
    out.push({
      value: String(value),
      text: text === undefined || text === null || text === '' ? String(value) : String(text),
    });
  }
  return out;
}

export class DataSource extends DataSourceWithBackend<AppealsQuery, AppealsDataSourceOptions> {
  readonly region: string;
  private optionsCache = new Map<string, { at: number; promise: Promise<ResourceOption[]> }>();

  constructor(instanceSettings: DataSourceInstanceSettings<AppealsDataSourceOptions>) {
    super(instanceSettings);
    this.region = instanceSettings.jsonData?.region || DEFAULT_REGION;
    this.variables = new AppealsVariableSupport(this);
  }

  getDefaultQuery(_: CoreApp): Partial<AppealsQuery> {
    return DEFAULT_QUERY;
  }

  applyTemplateVariables(query: AppealsQuery, scopedVars: ScopedVars): AppealsQuery {
    const normalized = normalizeQuery(query);
    return { ...normalized, filters: expandFilters(query.filters, scopedVars, getTemplateSrv()) };
  }

  interpolateVariablesInQueries(queries: AppealsQuery[], scopedVars: ScopedVars): AppealsQuery[] {
    return queries.map((q) => ({ ...this.applyTemplateVariables(q, scopedVars), datasource: this.getRef() }));
  }

  filterQuery(query: AppealsQuery): boolean {
    return !query.hide;
  }

  /** Normal queries go to the backend; live "timeseries" queries subscribe to ds/<uid>/counts instead. */
  query(request: DataQueryRequest<AppealsQuery>): Observable<DataQueryResponse> {
    const live = request.targets.filter((t) => !t.hide && isLiveQuery(normalizeQuery(t)));
    if (live.length === 0) {
      return super.query(request);
    }
    const streams: Array<Observable<DataQueryResponse>> = live.map((t) => this.liveStream(t, request));
    const rest = request.targets.filter((t) => !live.includes(t));
    if (rest.length > 0) {
      streams.push(super.query({ ...request, targets: rest }));
    }
    return merge(...streams);
  }

  /** Channel address of the live counters; `namespace` (Grafana 11) and `stream` (Grafana 12) both carry the uid. */
  liveAddress(minutes = LIVE_DEFAULT_MINUTES): LiveChannelAddress {
    return {
      scope: LiveChannelScope.DataSource,
      namespace: this.uid,
      stream: this.uid,
      path: `${LIVE_PATH}/${minutes}`,
    } as LiveChannelAddress;
  }

  private liveStream(query: AppealsQuery, request: DataQueryRequest<AppealsQuery>): Observable<DataQueryResponse> {
    const minutes = liveMinutes(request.range?.from?.valueOf(), request.range?.to?.valueOf());
    return getGrafanaLiveSrv().getDataStream({
      addr: this.liveAddress(minutes),
      key: `${this.uid}/${query.refId}`,
      buffer: liveBufferOptions(),
    });
  }

  /** Option list of one resource, reused for OPTIONS_TTL_MS; a failed fetch is not cached. */
  getOptions(resource: OptionResource): Promise<ResourceOption[]> {
    const now = Date.now();
    const hit = this.optionsCache.get(resource);
    if (hit && now - hit.at < OPTIONS_TTL_MS) {
      return hit.promise;
    }
    const promise = this.getResource(resource).then((body) => toOptions(resource, body));
    this.optionsCache.set(resource, { at: now, promise });
    promise.catch(() => {
      if (this.optionsCache.get(resource)?.promise === promise) {
        this.optionsCache.delete(resource);
      }
    });
    return promise;
  }

  /** Municipal boundaries (GeoJSON FeatureCollection) for the heat map. */
  getGeoJSON(): Promise<unknown> {
    return this.getResource('geojson');
  }

  /** Values of a template variable: `{resource: "municipalities"}` (or just the resource name) → [{text, value}]. */
  async metricFindQuery(query: VariableQuery | string): Promise<MetricFindValue[]> {
    const resource = typeof query === 'string' ? query.trim() : query?.resource;
    if (!resource) {
      return [];
    }
    if (!isOptionResource(resource)) {
      throw new Error(`unknown resource "${resource}"`);
    }
    const options = await this.getOptions(resource);
    return options.map((o) => ({ text: o.text, value: o.value }));
  }
}
