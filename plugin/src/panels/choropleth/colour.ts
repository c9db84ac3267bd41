/**
 * The choropleth's colour scale: blue (few) → pale yellow → red (many), ColorBrewer's RdYlBu reversed, which
 * stays readable on dark and light themes and for red–green colour blindness.
 */
const STOPS: Array<[number, number, number]> = [
  [44, 123, 182],
  [171, 217, 233],
  [255, 255, 191],
  [253, 174, 97],
  [215, 25, 28],
];

export type RGB = [number, number, number];

/** rgbAt is the colour at t ∈ [0, 1] (clamped), linearly between the stops. */
export function rgbAt(t: number): RGB {
  const c = Number.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0;
  const pos = c * (STOPS.length - 1);
  const i = Math.min(Math.floor(pos), STOPS.length - 2);
  const k = pos - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  return [0, 1, 2].map((j) => Math.round(a[j] + (b[j] - a[j]) * k)) as RGB;
}

export function css([r, g, b]: RGB): string {
  return `rgb(${r}, ${g}, ${b})`;
}

/** domain is [min, max] of the finite values; a flat or empty set gets a unit-wide domain from its value. */
export function domain(values: Array<number | null | undefined>): [number, number] {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) {
    return [0, 1];
  }
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/**
 * position of a value inside the domain, 0…1. `log` is for ratios such as the heat index, where 0.5 (half
 * the usual rate) is as far from usual as 2.0: linear, one hot spot at 10× would paint every other place
 * the same blue. A domain that reaches 0 falls back to linear.
 */
export function position(v: number, [lo, hi]: [number, number], log = false): number {
  const t = log && lo > 0 && v > 0 ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo);
  return Math.max(0, Math.min(1, t));
}

/** at is the value at position t of the domain: the inverse of position (legend ticks). */
export function at(t: number, [lo, hi]: [number, number], log = false): number {
  return log && lo > 0 ? lo * (hi / lo) ** t : lo + (hi - lo) * t;
}

/** gradient is the legend's CSS linear-gradient of the same stops. */
export function gradient(): string {
  const parts = STOPS.map((s, i) => `${css(s)} ${(i * 100) / (STOPS.length - 1)}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}
