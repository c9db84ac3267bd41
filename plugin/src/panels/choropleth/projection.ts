/**
 * Plain SVG geometry for the choropleth: GeoJSON polygons → Web Mercator → screen pixels. No tile server or
 * map library is needed, so the panel draws offline; Web Mercator (not a simpler equirectangular one) so
 * that an optional XYZ base layer lines up under the polygons.
 */

export type Position = [number, number];
/** One polygon: outer ring first, then holes (RFC 7946). */
export type Polygon = Position[][];

export interface Area {
  /** OKTMO: the key the heatmap frame is joined on. */
  key: string;
  name: string;
  polygons: Polygon[];
}

interface GeoFeature {
  id?: string | number;
  properties?: Record<string, unknown> | null;
  geometry?: { type?: string; coordinates?: unknown } | null;
}

/** areasFromGeoJSON reads a FeatureCollection's (Multi)Polygons; the key is properties.oktmo, else the id. */
export function areasFromGeoJSON(gj: unknown): Area[] {
  const fc = gj as { type?: string; features?: GeoFeature[] };
  if (!fc || fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
    throw new Error('boundary file is not a GeoJSON FeatureCollection');
  }
  const out: Area[] = [];
  for (const f of fc.features) {
    const g = f.geometry;
    const props = f.properties ?? {};
    const key = String(props.oktmo ?? f.id ?? '');
    if (!g || key === '') {
      continue;
    }
    let polygons: Polygon[];
    if (g.type === 'Polygon') {
      polygons = [g.coordinates as Polygon];
    } else if (g.type === 'MultiPolygon') {
      polygons = g.coordinates as Polygon[];
    } else {
      continue;
    }
    out.push({ key, name: String(props.name ?? key), polygons });
  }
  return out;
}

/** mercator projects lon/lat degrees to Web Mercator in radians (x right, y up). */
export function mercator([lon, lat]: Position): Position {
  const phi = (Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180;
  return [(lon * Math.PI) / 180, Math.log(Math.tan(Math.PI / 4 + phi / 2))];
}

/** A fitted projection: screen = (scale·x + tx, −scale·y + ty) of the Mercator point. */
export interface Fit {
  scale: number;
  tx: number;
  ty: number;
}

/** fit centres the areas' bounding box in width×height, keeping `pad` pixels free on every side. */
export function fit(areas: Area[], width: number, height: number, pad = 8): Fit {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const a of areas) {
    for (const poly of a.polygons) {
      for (const p of poly[0] ?? []) {
        const [x, y] = mercator(p);
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  if (!Number.isFinite(minX) || width <= 2 * pad || height <= 2 * pad) {
    return { scale: 1, tx: 0, ty: 0 };
  }
  const w = Math.max(maxX - minX, 1e-9);
  const h = Math.max(maxY - minY, 1e-9);
  const scale = Math.min((width - 2 * pad) / w, (height - 2 * pad) / h);
  return {
    scale,
    tx: (width - scale * w) / 2 - scale * minX,
    ty: (height - scale * h) / 2 + scale * maxY,
  };
}

export function project(f: Fit, p: Position): Position {
  const [x, y] = mercator(p);
  return [f.scale * x + f.tx, -f.scale * y + f.ty];
}

/** pathOf is the SVG path of an area: one closed subpath per ring (holes cut out by the evenodd rule). */
export function pathOf(f: Fit, area: Area): string {
  const parts: string[] = [];
  for (const poly of area.polygons) {
    for (const ring of poly) {
      ring.forEach((p, i) => {
        const [x, y] = project(f, p);
        parts.push(`${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`);
      });
      parts.push('Z');
    }
  }
  return parts.join('');
}

/** One 256-px XYZ tile of the optional base layer, placed in screen pixels. */
export interface Tile {
  z: number;
  x: number;
  y: number;
  left: number;
  top: number;
  size: number;
}

/** tiles lists the base layer's tiles covering width×height at the zoom whose tiles are closest to 256 px. */
export function tiles(f: Fit, width: number, height: number): Tile[] {
  const world = f.scale * 2 * Math.PI; // the whole Mercator world, in screen pixels
  const z = Math.max(0, Math.min(19, Math.round(Math.log2(world / 256))));
  const n = 2 ** z;
  const size = world / n;
  const worldLeft = f.tx - f.scale * Math.PI;
  const worldTop = -f.scale * Math.PI + f.ty;
  const out: Tile[] = [];
  const x0 = Math.max(0, Math.floor(-worldLeft / size));
  const x1 = Math.min(n - 1, Math.floor((width - worldLeft) / size));
  const y0 = Math.max(0, Math.floor(-worldTop / size));
  const y1 = Math.min(n - 1, Math.floor((height - worldTop) / size));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      out.push({ z, x, y, left: worldLeft + x * size, top: worldTop + y * size, size });
    }
  }
  return out;
}

/** tileUrl fills an XYZ template such as https://tile.openstreetmap.org/{z}/{x}/{y}.png. */
export function tileUrl(template: string, t: Tile): string {
  return template.replace('{z}', String(t.z)).replace('{x}', String(t.x)).replace('{y}', String(t.y));
}
