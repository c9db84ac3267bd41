// Bundles the harness page (page.tsx + the real @grafana/* packages) into harness/out/page.js with esbuild:
// one file, no Grafana server. Development React, so React's own warnings reach the console check.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

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
  define: { 'process.env.NODE_ENV': '"development"', global: 'window' },
  loader: { '.svg': 'text', '.ttf': 'empty', '.woff': 'empty', '.woff2': 'empty', '.png': 'empty' },
});
