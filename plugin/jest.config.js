// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const swc = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // d3-color >= 3.1.1 (pulled in by @grafana/data) ships only an ES module named *.mjs, which the
  // scaffolded transform pattern does not cover; compile it with the same swc transformer.
  transform: {
    ...base.transform,
    '^.+\\.mjs$': swc,
  },
  // the first render of @grafana/ui components is slow on a loaded 2-core machine
  testTimeout: 30000,
  // src/testutil holds test helpers, not tests
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/src/testutil/'],
};
