import { DataQueryRequest, DataSourceInstanceSettings, dateTime, LiveChannelScope, StreamingFrameAction } from '@grafana/data';
import { DataSourceWithBackend, getGrafanaLiveSrv, getTemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of, toArray } from 'rxjs';

import { DataSource, isLiveQuery, LIVE_PATH, normalizeQuery } from './datasource';
import { fakeTemplateSrv } from './testutil/fakeTemplateSrv';
import { AppealsDataSourceOptions, AppealsQuery } from './types';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: jest.fn(),
  getGrafanaLiveSrv: jest.fn(),
}));

const settings = (jsonData: Partial<AppealsDataSourceOptions> = {}) =>
  ({
    id: 1,
    uid: 'tk-uid',
    type: 'teplokarta-appeals-datasource',
    name: 'teplokarta',
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: { id: 'teplokarta-appeals-datasource' },
  }) as unknown as DataSourceInstanceSettings<AppealsDataSourceOptions>;

const templateSrv = fakeTemplateSrv([
  { name: 'municipality', value: ['61701000', '61705000'], options: ['61701000', '61705000', '61610000'] },
  { name: 'category', value: '$__all', options: ['ЖКХ', 'Дороги'] },
  { name: 'status', value: 'new' },
]);

beforeEach(() => {
  jest.mocked(getTemplateSrv).mockReturnValue(templateSrv);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('normalizeQuery', () => {
  it('fills defaults for an empty query (heatmap, incidents, 90 days)', () => {
    expect(normalizeQuery({ refId: 'A' })).toEqual({
      refId: 'A',
      queryType: 'heatmap',
      measure: 'incidents',
      baselineDays: 90,
    });
  });

  it('top: default dimension and limit 10; limit is clamped to 10000', () => {
    expect(normalizeQuery({ refId: 'A', queryType: 'top' })).toMatchObject({ dimension: 'category', limit: 10 });
    expect(normalizeQuery({ refId: 'A', queryType: 'top', limit: 50000 }).limit).toBe(10000);
    expect(normalizeQuery({ refId: 'A', queryType: 'top', limit: -3 }).limit).toBe(10);
  });

  it('appeals: default limit 100 and no settings of other types', () => {
    const q = normalizeQuery({
      refId: 'A',
      queryType: 'appeals',
      groupBy: 'agency',
      dimension: 'theme',
      baselineDays: 7,
    });
    expect(q.limit).toBe(100);
    expect(q).not.toHaveProperty('groupBy');
    expect(q).not.toHaveProperty('dimension');
    expect(q).not.toHaveProperty('baselineDays');
  });

  it('sla accepts only agency|municipality as groupBy', () => {
    expect(normalizeQuery({ refId: 'A', queryType: 'sla', groupBy: 'municipality' }).groupBy).toBe('municipality');
    expect(normalizeQuery({ refId: 'A', queryType: 'sla', groupBy: 'source' }).groupBy).toBe('agency');
  });

  it('timeseries keeps groupBy and live; other types drop live', () => {
    expect(normalizeQuery({ refId: 'A', queryType: 'timeseries', groupBy: 'source', live: true })).toMatchObject({
      groupBy: 'source',
      live: true,
    });
    expect(normalizeQuery({ refId: 'A', queryType: 'timeseries' }).groupBy).toBe('none');
    expect(normalizeQuery({ refId: 'A', queryType: 'heatmap', live: true })).not.toHaveProperty('live');
  });

  it('keeps voices and replaces an unknown measure / query type', () => {
    expect(normalizeQuery({ refId: 'A', measure: 'voices' }).measure).toBe('voices');
    expect(normalizeQuery({ refId: 'A', measure: 'x' as never, queryType: 'nope' as never })).toMatchObject({
      measure: 'incidents',
      queryType: 'heatmap',
    });
  });
});

describe('DataSource.applyTemplateVariables', () => {
  it('expands multi-value variables into filter elements and drops All filters', () => {
    const ds = new DataSource(settings());
    const out = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'timeseries',
        groupBy: 'municipality',
        filters: {
          municipalities: ['$municipality'],
          categories: ['$category'],
          statuses: ['$status', 'closed'],
          sources: ['vk'],
        },
      },
      {}
    );
    expect(out.filters).toEqual({
      municipalities: ['61701000', '61705000'],
      categories: [],
      statuses: ['new', 'closed'],
      sources: ['vk'],
    });
    expect(out.queryType).toBe('timeseries');
    expect(out.groupBy).toBe('municipality');
  });

  it('uses scopedVars of repeated panels', () => {
    const ds = new DataSource(settings());
    const out = ds.applyTemplateVariables(
      { refId: 'A', filters: { municipalities: ['$municipality'] } },
      { municipality: { text: 'Скопин', value: '61610000' } }
    );
    expect(out.filters?.municipalities).toEqual(['61610000']);
  });

  it('interpolateVariablesInQueries expands too and sets the datasource ref', () => {
    const ds = new DataSource(settings());
    const [q] = ds.interpolateVariablesInQueries([{ refId: 'A', filters: { municipalities: ['$municipality'] } }], {});
    expect(q.filters?.municipalities).toEqual(['61701000', '61705000']);
    expect(q.datasource).toEqual({ type: 'teplokarta-appeals-datasource', uid: 'tk-uid' });
  });

  it('filterQuery skips hidden queries', () => {
    const ds = new DataSource(settings());
    expect(ds.filterQuery({ refId: 'A' })).toBe(true);
    expect(ds.filterQuery({ refId: 'A', hide: true })).toBe(false);
  });
});

describe('DataSource resources', () => {
  it('getOptions maps the resource body and caches it', async () => {
    const ds = new DataSource(settings());
    const getResource = jest
      .spyOn(ds, 'getResource')
      .mockResolvedValue([
        { value: '61701000', text: 'г. Рязань' },
        { value: 61705000, text: '' },
        { value: '' },
        null,
      ]);
    const first = await ds.getOptions('municipalities');
    expect(first).toEqual([
      { value: '61701000', text: 'г. Рязань' },
      { value: '61705000', text: '61705000' },
    ]);
    await ds.getOptions('municipalities');
    expect(getResource).toHaveBeenCalledTimes(1);
    expect(getResource).toHaveBeenCalledWith('municipalities');
  });

  it('getOptions does not cache failures and rejects non-arrays', async () => {
    const ds = new DataSource(settings());
    const getResource = jest
      .spyOn(ds, 'getResource')
      .mockRejectedValueOnce(new Error('boom'))
      .mockResolvedValueOnce({ not: 'an array' })
      .mockResolvedValueOnce([{ value: 'new', text: 'Новое' }]);
    await expect(ds.getOptions('statuses')).rejects.toThrow('boom');
    await expect(ds.getOptions('statuses')).rejects.toThrow(/expected an array/);
    await expect(ds.getOptions('statuses')).resolves.toEqual([{ value: 'new', text: 'Новое' }]);
    expect(getResource).toHaveBeenCalledTimes(3);
  });

  it('metricFindQuery returns [{text, value}] of the resource', async () => {
    const ds = new DataSource(settings());
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue([
      { value: 'roads', text: 'Дороги' },
      { value: 'housing', text: 'ЖКХ' },
    ]);
    await expect(ds.metricFindQuery({ refId: 'v', resource: 'categories' })).resolves.toEqual([
      { text: 'Дороги', value: 'roads' },
      { text: 'ЖКХ', value: 'housing' },
    ]);
    expect(getResource).toHaveBeenCalledWith('categories');
    await expect(ds.metricFindQuery('themes')).resolves.toHaveLength(2);
    expect(getResource).toHaveBeenLastCalledWith('themes');
  });

  it('metricFindQuery: empty for no resource, error for an unknown one', async () => {
    const ds = new DataSource(settings());
    const getResource = jest.spyOn(ds, 'getResource');
    await expect(ds.metricFindQuery({ refId: 'v' })).resolves.toEqual([]);
    await expect(ds.metricFindQuery({ refId: 'v', resource: 'geojson' as never })).rejects.toThrow(/unknown resource/);
    expect(getResource).not.toHaveBeenCalled();
  });

  it('variable support answers with the metricFindQuery values', async () => {
    const ds = new DataSource(settings());
    jest.spyOn(ds, 'getResource').mockResolvedValue([{ value: 'a1', text: 'Минстрой' }]);
    const variables = ds.variables as unknown as {
      query: (r: DataQueryRequest) => ReturnType<DataSource['query']>;
      editor: unknown;
    };
    expect(variables.editor).toBeDefined();
    const res = await lastValueFrom(
      variables.query({ targets: [{ refId: 'v', resource: 'agencies' }] } as unknown as DataQueryRequest)
    );
    expect(res.data).toEqual([{ text: 'Минстрой', value: 'a1' }]);
  });

  it('getGeoJSON reads the geojson resource', async () => {
    const ds = new DataSource(settings());
    const fc = { type: 'FeatureCollection', features: [] };
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue(fc);
    await expect(ds.getGeoJSON()).resolves.toBe(fc);
    expect(getResource).toHaveBeenCalledWith('geojson');
  });

  it('uses the configured region, RU-RYA by default', () => {
    expect(new DataSource(settings()).region).toBe('RU-RYA');
    expect(new DataSource(settings({ region: 'RU-MOS' })).region).toBe('RU-MOS');
  });
});

describe('DataSource.query live streaming', () => {
  const request = (targets: AppealsQuery[]) =>
    ({
      requestId: 'r1',
      targets,
      range: { from: dateTime(1_000_000), to: dateTime(4_600_000), raw: { from: 'now-1h', to: 'now' } },
      scopedVars: {},
    }) as unknown as DataQueryRequest<AppealsQuery>;

  it('isLiveQuery only for timeseries with live: true', () => {
    expect(isLiveQuery({ refId: 'A', queryType: 'timeseries', live: true })).toBe(true);
    expect(isLiveQuery({ refId: 'A', queryType: 'timeseries' })).toBe(false);
    expect(isLiveQuery({ refId: 'A', queryType: 'heatmap', live: true })).toBe(false);
  });

  it('subscribes to ds/<uid>/counts/<range minutes> for live timeseries and queries the backend for the rest', async () => {
    const getDataStream = jest.fn().mockReturnValue(of({ data: ['live-frame'], key: 'tk-uid/A' }));
    jest.mocked(getGrafanaLiveSrv).mockReturnValue({ getDataStream } as never);
    const backend = jest
      .spyOn(DataSourceWithBackend.prototype, 'query')
      .mockReturnValue(of({ data: ['backend-frame'] }));
    const ds = new DataSource(settings());
    const out = await lastValueFrom(
      ds
        .query(
          request([
            { refId: 'A', queryType: 'timeseries', live: true },
            { refId: 'B', queryType: 'heatmap' },
          ])
        )
        .pipe(toArray())
    );
    expect(getDataStream).toHaveBeenCalledTimes(1);
    const opts = getDataStream.mock.calls[0][0];
    expect(opts.addr).toMatchObject({ scope: LiveChannelScope.DataSource, namespace: 'tk-uid', path: `${LIVE_PATH}/60` });
    expect(opts.addr.stream).toBe('tk-uid');
    expect(opts.key).toBe('tk-uid/A');
    expect(opts.buffer).toEqual({ maxLength: 144_000, action: StreamingFrameAction.Replace });
    expect(backend).toHaveBeenCalledTimes(1);
    expect(backend.mock.calls[0][0].targets.map((t) => t.refId)).toEqual(['B']);
    expect(out.flatMap((r) => r.data)).toEqual(expect.arrayContaining(['live-frame', 'backend-frame']));
  });

  it('does not call the backend when all queries are live', async () => {
    const getDataStream = jest.fn().mockReturnValue(of({ data: [] }));
    jest.mocked(getGrafanaLiveSrv).mockReturnValue({ getDataStream } as never);
    const backend = jest.spyOn(DataSourceWithBackend.prototype, 'query');
    const ds = new DataSource(settings());
    await lastValueFrom(ds.query(request([{ refId: 'A', queryType: 'timeseries', live: true }])));
    expect(backend).not.toHaveBeenCalled();
    expect(getDataStream).toHaveBeenCalledTimes(1);
  });

  it('uses the normal backend query when nothing is live (or the live query is hidden)', async () => {
    const getDataStream = jest.fn();
    jest.mocked(getGrafanaLiveSrv).mockReturnValue({ getDataStream } as never);
    const backend = jest.spyOn(DataSourceWithBackend.prototype, 'query').mockReturnValue(of({ data: [] }));
    const ds = new DataSource(settings());
    const targets: AppealsQuery[] = [
      { refId: 'A', queryType: 'timeseries', live: false },
      { refId: 'B', queryType: 'timeseries', live: true, hide: true },
    ];
    await lastValueFrom(ds.query(request(targets)));
    expect(getDataStream).not.toHaveBeenCalled();
    expect(backend).toHaveBeenCalledTimes(1);
    expect(backend.mock.calls[0][0].targets).toHaveLength(2);
  });
});
