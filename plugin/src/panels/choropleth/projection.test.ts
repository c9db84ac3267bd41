import fs from 'fs';
import path from 'path';

import { areasFromGeoJSON, fit, mercator, pathOf, project, tiles, tileUrl } from './projection';

const ryazan = () =>
  areasFromGeoJSON(JSON.parse(fs.readFileSync(path.join(__dirname, 'geo', 'ryazan-municipalities.geojson'), 'utf8')));

describe('areasFromGeoJSON', () => {
  it('reads the shipped boundaries: 29 municipalities keyed by OKTMO', () => {
    const areas = ryazan();
    expect(areas).toHaveLength(29);
    expect(new Set(areas.map((a) => a.key)).size).toBe(29);
    expect(areas.find((a) => a.key === '61701000')?.name).toBe('Рязань');
  });

  it.each([
    ['not a collection', { type: 'Feature' }],
    ['no features', { type: 'FeatureCollection' }],
    ['null', null],
  ])('rejects %s', (_, gj) => {
    expect(() => areasFromGeoJSON(gj)).toThrow('FeatureCollection');
  });

  it('keys by properties.oktmo, then id; skips points and keyless features', () => {
    const sq = [
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 0],
      ],
    ];
    const areas = areasFromGeoJSON({
      type: 'FeatureCollection',
      features: [
        { id: 'x', properties: { oktmo: '1' }, geometry: { type: 'Polygon', coordinates: sq } },
        { id: 2, properties: {}, geometry: { type: 'MultiPolygon', coordinates: [sq, sq] } },
        { id: 3, properties: {}, geometry: { type: 'Point', coordinates: [0, 0] } },
        { properties: {}, geometry: { type: 'Polygon', coordinates: sq } },
      ],
    });
    expect(areas.map((a) => [a.key, a.polygons.length])).toEqual([
      ['1', 1],
      ['2', 2],
    ]);
  });
});

describe('fit and project', () => {
  it.each([
    [800, 600],
    [300, 900],
    [1200, 200],
  ])('keeps every vertex inside %i×%i with the padding, touching two opposite sides', (w, h) => {
    const areas = ryazan();
    const f = fit(areas, w, h, 8);
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const a of areas) {
      for (const poly of a.polygons) {
        for (const p of poly[0]) {
          const [x, y] = project(f, p);
          [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
        }
      }
    }
    expect(minX).toBeGreaterThanOrEqual(8 - 1e-6);
    expect(minY).toBeGreaterThanOrEqual(8 - 1e-6);
    expect(maxX).toBeLessThanOrEqual(w - 8 + 1e-6);
    expect(maxY).toBeLessThanOrEqual(h - 8 + 1e-6);
    const fillsWidth = Math.abs(maxX - minX - (w - 16)) < 0.01;
    const fillsHeight = Math.abs(maxY - minY - (h - 16)) < 0.01;
    expect(fillsWidth || fillsHeight).toBe(true);
  });

  it('puts north up and east right (Касимов is north-east of Рязань)', () => {
    const f = fit(ryazan(), 800, 600);
    const [rx, ry] = project(f, [39.7359, 54.6254]);
    const [kx, ky] = project(f, [41.3913, 54.9373]);
    expect(kx).toBeGreaterThan(rx);
    expect(ky).toBeLessThan(ry);
  });

  it('is Web Mercator: equal steps of latitude grow apart northwards', () => {
    const d1 = mercator([0, 60])[1] - mercator([0, 50])[1];
    const d0 = mercator([0, 10])[1] - mercator([0, 0])[1];
    expect(d1).toBeGreaterThan(d0 * 1.5);
  });

  it('draws one closed subpath per ring, holes included', () => {
    const areas = ryazan();
    const f = fit(areas, 800, 600);
    const district = areas.find((a) => a.key === '61608000'); // Касимовский район: Касимов is a hole in it
    const rings = district!.polygons.reduce((n, p) => n + p.length, 0);
    expect(rings).toBeGreaterThan(1);
    expect(pathOf(f, district!).match(/Z/g)).toHaveLength(rings);
  });
});

describe('base layer tiles', () => {
  it('covers the panel with ~256 px tiles aligned to the projection', () => {
    const areas = ryazan();
    const f = fit(areas, 800, 600);
    const ts = tiles(f, 800, 600);
    expect(ts.length).toBeGreaterThan(0);
    const size = ts[0].size;
    expect(size).toBeGreaterThan(181);
    expect(size).toBeLessThan(363);
    // the tile holding Рязань's centre (standard XYZ arithmetic) is drawn where the projection puts it
    const [px, py] = project(f, [39.7359, 54.6254]);
    const n = 2 ** ts[0].z;
    const tx = Math.floor(((39.7359 + 180) / 360) * n);
    const lat = (54.6254 * Math.PI) / 180;
    const ty = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n);
    const t = ts.find((x) => x.x === tx && x.y === ty);
    expect(t).toBeDefined();
    expect(px).toBeGreaterThanOrEqual(t!.left);
    expect(px).toBeLessThan(t!.left + size);
    expect(py).toBeGreaterThanOrEqual(t!.top);
    expect(py).toBeLessThan(t!.top + size);
    expect(tileUrl('https://t/{z}/{x}/{y}.png', t!)).toBe(`https://t/${t!.z}/${tx}/${ty}.png`);
  });
});
