// Bundles the harness page (page.tsx + the real @grafana/* packages) into harness/out/page.js with esbuild:
// one file, no Grafana server. Development React, so React's own warnings reach the console check.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// --shipped: the page draws the webpack-built dist-panel/module.js (make -C plugin browser-dist).
const shipped = process.argv.includes('--shipped');

await esbuild.build({
  entryPoints: [path.join(here, 'page.tsx')],
  outfile: path.join(here, 'out', 'page.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome120',
  jsx: 'automatic',
  sourcemap: false,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"development"', global: 'window', HARNESS_SHIPPED: String(shipped) },
  loader: { '.svg': 'text', '.ttf': 'empty', '.woff': 'empty', '.woff2': 'empty', '.png': 'empty' },
});
