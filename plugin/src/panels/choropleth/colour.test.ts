import { at, css, domain, gradient, position, rgbAt } from './colour';

describe('colour scale', () => {
  it.each([
    [0, 'rgb(44, 123, 182)'],
    [0.5, 'rgb(255, 255, 191)'],
    [1, 'rgb(215, 25, 28)'],
    [-3, 'rgb(44, 123, 182)'],
    [7, 'rgb(215, 25, 28)'],
    [NaN, 'rgb(44, 123, 182)'],
  ])('at %p is %s', (t, want) => {
    expect(css(rgbAt(t))).toBe(want);
  });

  it('goes from blue-ish to red-ish monotonically in red minus blue', () => {
    let prev = -Infinity;
    for (let t = 0; t <= 1; t += 0.05) {
      const [r, , b] = rgbAt(t);
      expect(r - b).toBeGreaterThanOrEqual(prev);
      prev = r - b;
    }
    const [r0, , b0] = rgbAt(0.2);
    expect(b0).toBeGreaterThan(r0);
    const [r1, , b1] = rgbAt(0.8);
    expect(r1).toBeGreaterThan(b1);
  });

  it.each([
    [
      [3, 1, 2],
      [1, 3],
    ],
    [
      [null, 5, undefined, NaN],
      [5, 6],
    ],
    [[], [0, 1]],
    [
      [0, 0],
      [0, 1],
    ],
  ])('domain of %p is %p', (vals, want) => {
    expect(domain(vals as Array<number | null>)).toEqual(want);
  });

  it('positions values inside the domain and clamps outside it', () => {
    expect(position(2, [1, 3])).toBe(0.5);
    expect(position(0, [1, 3])).toBe(0);
    expect(position(9, [1, 3])).toBe(1);
  });

  it('puts ratios on a log scale: half and double the usual rate sit symmetrically around 1', () => {
    expect(position(1, [0.5, 2], true)).toBeCloseTo(0.5);
    expect(position(0.25, [0.25, 16], true)).toBe(0);
    expect(position(4, [0.25, 16], true)).toBeCloseTo(2 / 3);
    expect(position(2, [0, 4], true)).toBe(0.5); // a domain from 0 stays linear
  });

  it.each([false, true])('at inverts position (log %p)', (log) => {
    for (const t of [0, 0.25, 0.5, 1]) {
      expect(position(at(t, [0.2, 11], log), [0.2, 11], log)).toBeCloseTo(t);
    }
  });

  it('legend gradient uses the same stops', () => {
    expect(gradient()).toBe(
      'linear-gradient(to right, rgb(44, 123, 182) 0%, rgb(171, 217, 233) 25%, rgb(255, 255, 191) 50%, rgb(253, 174, 97) 75%, rgb(215, 25, 28) 100%)'
    );
  });
});
