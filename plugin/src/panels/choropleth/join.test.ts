import { createDataFrame, FieldType } from '@grafana/data';

import { heatmapFrame, joinFrame, linkFor, value } from './join';

// The shape plugin/pkg/plugin/heatmap.go returns (see docs/grafana-plugin.md, frames).
const frame = createDataFrame({
  name: 'heatmap',
  meta: { custom: { unknown: { municipality: 'не определено', appeals: 1, incidents: 1, voices: 2 } } },
  fields: [
    { name: 'oktmo', type: FieldType.string, values: ['61701000', '61705000'] },
    { name: 'municipality', type: FieldType.string, values: ['Рязань', 'Касимов'] },
    { name: 'population', type: FieldType.number, values: [525062, null] },
    { name: 'appeals', type: FieldType.number, values: [9, 2] },
    { name: 'baseline', type: FieldType.number, values: [60, 0] },
    { name: 'per_10k', type: FieldType.number, values: [0.171, null] },
    { name: 'heat', type: FieldType.number, values: [0.476, 3] },
    { name: 'incidents', type: FieldType.number, values: [9, 2] },
    { name: 'voices', type: FieldType.number, values: [12, 2] },
    { name: 'top_categories', type: FieldType.string, values: ['ЖКХ 6 · Дороги 3', 'Дороги 2'] },
  ],
});

describe('joinFrame', () => {
  it('indexes the heatmap frame by OKTMO with the tooltip columns', () => {
    const j = joinFrame(frame);
    expect(j.rows.get('61701000')).toEqual({
      oktmo: '61701000',
      name: 'Рязань',
      measure: 9,
      appeals: 12,
      incidents: 9,
      baseline: 60,
      heat: 0.476,
      per10k: 0.171,
      topCategories: 'ЖКХ 6 · Дороги 3',
    });
    expect(j.rows.get('61705000')?.per10k).toBeNull();
    expect(j.unknown).toEqual({ name: 'не определено', appeals: 2, incidents: 1 });
  });

  it('joins an older frame without tooltip columns: appeals fall back to the measure', () => {
    const old = createDataFrame({
      fields: frame.fields.filter((f) => !['incidents', 'voices', 'top_categories'].includes(f.name)),
    });
    const row = joinFrame(old).rows.get('61701000');
    expect(row?.appeals).toBe(9);
    expect(row?.incidents).toBe(0);
    expect(row?.topCategories).toBe('');
    expect(joinFrame(old).unknown).toBeUndefined();
  });

  it('finds the heatmap frame among others and tolerates none', () => {
    const other = createDataFrame({ fields: [{ name: 'time', type: FieldType.time, values: [1] }] });
    expect(heatmapFrame([other, frame])).toBe(frame);
    expect(heatmapFrame([other])).toBeUndefined();
    expect(joinFrame(undefined).rows.size).toBe(0);
  });
});

describe('value', () => {
  const row = joinFrame(frame).rows.get('61705000');
  it.each([
    ['heat', 3],
    ['appeals', 2],
    ['incidents', 2],
    ['per_10k', null],
  ] as const)('%s → %p', (metric, want) => {
    expect(value(row, metric)).toBe(want);
  });
  it('is null for a municipality missing from the frame', () => {
    expect(value(undefined, 'heat')).toBeNull();
  });
});

describe('linkFor', () => {
  it('fills and encodes the municipality', () => {
    expect(
      linkFor('/d/ops?var-municipality=${oktmo}&n=${municipality}&${__url_time_range}', {
        oktmo: '61701000',
        name: 'Рязань',
      })
    ).toBe('/d/ops?var-municipality=61701000&n=%D0%A0%D1%8F%D0%B7%D0%B0%D0%BD%D1%8C&${__url_time_range}');
  });
});
