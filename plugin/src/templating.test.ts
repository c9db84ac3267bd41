import { ScopedVars } from '@grafana/data';

import { fakeTemplateSrv } from './testutil/fakeTemplateSrv';
import { expandFilters, expandValues, filtersHaveVariables, variableName } from './templating';

const srv = fakeTemplateSrv([
  { name: 'municipality', value: ['61701000', '61705000'], options: ['61701000', '61705000', '61610000'] },
  { name: 'one', value: '61610000' },
  { name: 'category', value: '$__all', options: ['ЖКХ', 'Дороги'] },
  { name: 'agencyAll', value: ['$__all'], options: ['a1'] },
  { name: 'empty', value: [] },
  { name: 'quote', value: ['say "hi"', 'a,b'] },
]);

describe('variableName', () => {
  it.each([
    ['$municipality', 'municipality'],
    ['${municipality}', 'municipality'],
    ['${municipality:csv}', 'municipality'],
    ['[[municipality]]', 'municipality'],
    [' $one ', 'one'],
    ['x-$one', undefined],
    ['61701000', undefined],
  ])('%s → %s', (input, expected) => {
    expect(variableName(input)).toBe(expected);
  });
});

describe('expandValues', () => {
  it('keeps literals as they are', () => {
    expect(expandValues(['61701000', 'ЖКХ'], {}, srv)).toEqual(['61701000', 'ЖКХ']);
  });

  it('expands a multi-value variable into several elements', () => {
    expect(expandValues(['$municipality'], {}, srv)).toEqual(['61701000', '61705000']);
    expect(srv.replace).toHaveBeenCalledWith('${municipality}', {}, 'json');
  });

  it('expands ${var}, ${var:format} and [[var]] syntaxes the same way', () => {
    for (const ref of ['${municipality}', '${municipality:csv}', '[[municipality]]']) {
      expect(expandValues([ref], {}, srv)).toEqual(['61701000', '61705000']);
    }
  });

  it('expands a single-value variable to one element', () => {
    expect(expandValues(['$one'], {}, srv)).toEqual(['61610000']);
  });

  it('mixes literals and variables and removes duplicates, keeping order', () => {
    expect(expandValues(['61705000', '$municipality', '$one', '61610000'], {}, srv)).toEqual([
      '61705000',
      '61701000',
      '61610000',
    ]);
  });

  it('drops the whole filter when a variable is set to All', () => {
    expect(expandValues(['$category'], {}, srv)).toEqual([]);
    expect(expandValues(['ЖКХ', '$category'], {}, srv)).toEqual([]);
    expect(expandValues(['$agencyAll'], {}, srv)).toEqual([]);
  });

  it('drops the whole filter for a literal $__all element', () => {
    expect(expandValues(['61701000', '$__all'], {}, srv)).toEqual([]);
  });

  it('drops the filter when the interpolated JSON array still contains $__all', () => {
    const custom = fakeTemplateSrv([{ name: 'm', value: ['x'] }]);
    custom.replace.mockImplementation(() => JSON.stringify(['$__all']));
    expect(expandValues(['$m'], {}, custom)).toEqual([]);
  });

  it('prefers scopedVars (repeated panels) over the dashboard value', () => {
    const scoped: ScopedVars = { municipality: { text: 'Рязань', value: '61701000' } };
    expect(expandValues(['$municipality'], scoped, srv)).toEqual(['61701000']);
    const scopedAll: ScopedVars = { one: { text: 'All', value: '$__all' } };
    expect(expandValues(['$one'], scopedAll, srv)).toEqual([]);
  });

  it('an empty multi-value selection contributes nothing', () => {
    expect(expandValues(['$empty'], {}, srv)).toEqual([]);
    expect(expandValues(['$empty', 'x'], {}, srv)).toEqual(['x']);
  });

  it('keeps values with quotes and commas intact', () => {
    expect(expandValues(['$quote'], {}, srv)).toEqual(['say "hi"', 'a,b']);
  });

  it('leaves an unknown variable reference as typed', () => {
    expect(expandValues(['$nosuch'], {}, srv)).toEqual(['$nosuch']);
  });

  it('interpolates text mixed with a variable as one element', () => {
    expect(expandValues(['code-$one'], {}, srv)).toEqual(['code-61610000']);
  });

  it('skips empty strings and handles undefined', () => {
    expect(expandValues(['', 'a'], {}, srv)).toEqual(['a']);
    expect(expandValues(undefined, {}, srv)).toEqual([]);
  });
});

describe('expandFilters', () => {
  it('expands every filter and keeps absent ones absent', () => {
    const out = expandFilters(
      { municipalities: ['$municipality'], categories: ['$category'], statuses: ['new'] },
      {},
      srv
    );
    expect(out).toEqual({ municipalities: ['61701000', '61705000'], categories: [], statuses: ['new'] });
    expect(out).not.toHaveProperty('themes');
  });

  it('returns an empty object for no filters', () => {
    expect(expandFilters(undefined, {}, srv)).toEqual({});
  });

  it('detects variable references', () => {
    expect(filtersHaveVariables({ themes: ['$one'] }, srv)).toBe(true);
    expect(filtersHaveVariables({ themes: ['x'] }, srv)).toBe(false);
  });
});
