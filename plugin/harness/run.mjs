// The browser test of `make test`: serves the harness page and the backend-produced frames on 127.0.0.1,
// drives the system Chromium with playwright-core, asserts what a user sees, and saves the screenshots.
//   node harness/run.mjs            (after `node harness/build.mjs` and pkg/plugin's TestHarnessFrames)
// Env: TEPLOKARTA_HARNESS_OUT (frames dir, default harness/out/frames), CHROMIUM (default /usr/bin/chromium),
// TEPLOKARTA_SCREENSHOTS (default ../docs/img).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const framesDir = path.resolve(process.env.TEPLOKARTA_HARNESS_OUT || path.join(here, 'out', 'frames'));
const shotsDir = path.resolve(process.env.TEPLOKARTA_SCREENSHOTS || path.join(here, '..', '..', 'docs', 'img'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
// HARNESS_PANEL=dist: the page was built with --shipped and loads the webpack build with its own copy of the data.
const panelDir = path.join(
  here,
  '..',
  ...(process.env.HARNESS_PANEL === 'dist' ? ['dist-panel'] : ['src', 'panels', 'choropleth'])
);

const routes = [
  ['/public/plugins/teplokarta-choropleth-panel/', panelDir],
  ['/frames/', framesDir],
  ['/out/', path.join(here, 'out')],
  // @grafana/ui's icons, where Grafana serves them
  [
    '/public/build/img/icons/',
    path.join(here, '..', 'node_modules', '@grafana', 'ui', 'dist', 'public', 'img', 'icons'),
  ],
];
const types = {
  '.html': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.geojson': 'application/geo+json',
  '.svg': 'image/svg+xml',
};

// Icons Grafana serves from its own tree but @grafana/ui's package does not ship (the loading spinner, shown
// by the editors while option lists load): a blank icon, as only Grafana's static files are stood in for.
const grafanaOwnIcons = new Set(['/public/build/img/icons/unicons/spinner.svg']);
const placeholderIcon = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"></svg>';

function serve() {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = url === '/' ? path.join(here, 'index.html') : undefined;
    for (const [prefix, dir] of routes) {
      if (url.startsWith(prefix)) {
        file = path.join(dir, url.slice(prefix.length));
        if (!file.startsWith(dir)) {
          file = undefined;
        }
      }
    }
    if (grafanaOwnIcons.has(url)) {
      res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(placeholderIcon);
      return;
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

for (const f of ['query.json', 'resources.json', 'range.json']) {
  assert.ok(
    fs.existsSync(path.join(framesDir, f)),
    `${framesDir}/${f} is missing: run pkg/plugin's TestHarnessFrames first`
  );
}
assert.ok(
  fs.existsSync(path.join(here, 'out', 'page.js')),
  'harness/out/page.js is missing: run node harness/build.mjs'
);

// What the backend said, read independently of the page: the hottest municipality and the quietest one
// (no appeals in the range although it has a baseline).
const frame = JSON.parse(fs.readFileSync(path.join(framesDir, 'query.json'), 'utf8')).results.A.frames[0];
const col = (name) => frame.data.values[frame.schema.fields.findIndex((f) => f.name === name)];
const rows = col('oktmo').map((oktmo, i) => ({
  oktmo,
  name: col('municipality')[i],
  appeals: col('voices')[i],
  incidents: col('incidents')[i],
  baseline: col('baseline')[i],
  heat: col('heat')[i],
  top: col('top_categories')[i],
}));
const hottest = rows.reduce((a, b) => (b.heat > a.heat ? b : a));
const quiet = rows.filter((r) => r.incidents === 0 && r.baseline > 0).reduce((a, b) => (b.heat < a.heat ? b : a));
const unknown = frame.schema.meta.custom.unknown;

const rgb = (s) => {
  const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(s);
  assert.ok(m, `not an rgb() colour: ${s}`);
  return m.slice(1).map(Number);
};
const redish = ([r, , b]) => r >= 180 && r - b >= 100;
const blueish = ([r, , b]) => b >= 150 && b - r >= 60;

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${e.message.split('\n').join('\n     ')}`);
  }
}

async function open(browser, base, query, problems) {
  const page = await browser.newPage({ viewport: { width: 940, height: 1400 }, deviceScaleFactor: 1 });
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  // Nothing may come from the internet: the panel must draw offline.
  await page.route(
    (u) => !u.host.startsWith('127.0.0.1'),
    (r) => {
      problems.push(`internet request: ${r.request().url()}`);
      return r.abort();
    }
  );
  await page.goto(`${base}/?${query}`);
  await page.waitForFunction(() => window.harnessReady === true || window.harnessError, null, { timeout: 60000 });
  const failed = await page.evaluate(() => window.harnessError);
  if (failed) {
    throw new Error(`the harness page failed: ${failed}\n${problems.join('\n')}`);
  }
  await page.waitForSelector('[data-testid="choropleth-area"]', { timeout: 60000 });
  return page;
}

// interior finds a point inside the municipality's drawn polygon (its bbox centre may fall in a hole).
async function interior(page, oktmo) {
  return page.evaluate((code) => {
    const el = document.querySelector(`[data-oktmo="${code}"]`);
    const b = el.getBoundingClientRect();
    for (let n = 2; n <= 32; n *= 2) {
      for (let i = 1; i < n; i++) {
        for (let j = 1; j < n; j++) {
          const x = b.left + (b.width * i) / n;
          const y = b.top + (b.height * j) / n;
          if (document.elementFromPoint(x, y) === el) {
            return { x, y };
          }
        }
      }
    }
    return null;
  }, oktmo);
}

const server = await serve();
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
try {
  fs.mkdirSync(shotsDir, { recursive: true });
  for (const theme of ['dark', 'light']) {
    const problems = [];
    const page = await open(browser, base, `theme=${theme}`, problems);
    const fill = async (oktmo) =>
      rgb(await page.locator(`[data-oktmo="${oktmo}"]`).evaluate((el) => getComputedStyle(el).fill));

    await check(`${theme}: 29 municipalities drawn`, async () => {
      assert.equal(await page.locator('[data-testid="choropleth-area"]').count(), 29);
    });
    await check(`${theme}: hottest ${hottest.name} (heat ${hottest.heat.toFixed(2)}) is red-ish`, async () => {
      const c = await fill(hottest.oktmo);
      assert.ok(redish(c), `fill rgb(${c})`);
    });
    await check(`${theme}: ${quiet.name} (no appeals, baseline ${quiet.baseline}) is blue-ish`, async () => {
      const c = await fill(quiet.oktmo);
      assert.ok(blueish(c), `fill rgb(${c})`);
    });
    await check(`${theme}: legend names the metric and spans the data`, async () => {
      const legend = page.getByTestId('choropleth-legend');
      await legend.waitFor();
      const text = await legend.innerText();
      assert.match(text, /Индекс тепла/);
      assert.match(text, new RegExp(hottest.heat.toFixed(2).replace('.', ',')));
    });
    await check(`${theme}: unresolved appeals beside the map and the OSM attribution`, async () => {
      assert.match(
        await page.getByTestId('choropleth-unknown').innerText(),
        new RegExp(`не определено: ${unknown.voices}`)
      );
      const attr = page.getByTestId('choropleth-attribution');
      assert.equal((await attr.innerText()).trim(), '© OpenStreetMap contributors');
      assert.equal(await attr.locator('a').getAttribute('href'), 'https://www.openstreetmap.org/copyright');
    });
    await check(`${theme}: click goes to the ops dashboard filtered to the municipality`, async () => {
      const href = await page.locator(`a:has([data-oktmo="${hottest.oktmo}"])`).getAttribute('href');
      assert.match(href, new RegExp(`^/d/teplokarta-ops/\\?var-municipality=${hottest.oktmo}&from=\\d+&to=\\d+$`));
    });
    await check(`${theme}: hovering ${hottest.name} shows its tooltip`, async () => {
      const p = await interior(page, hottest.oktmo);
      assert.ok(p, 'no visible point of the municipality');
      await page.mouse.move(p.x, p.y);
      const tip = page.getByTestId('choropleth-tooltip');
      await tip.waitFor();
      const text = await tip.innerText();
      for (const want of [
        hottest.name,
        `Обращения\t${hottest.appeals}`,
        `Инциденты\t${hottest.incidents}`,
        `Базовый уровень\t${hottest.baseline}`,
        `Индекс тепла\t${hottest.heat.toFixed(2).replace('.', ',')}`,
        hottest.top,
      ]) {
        assert.ok(text.includes(want), `tooltip lacks "${want}":\n${text}`);
      }
    });
    await check(`${theme}: the data source's query and config editors render`, async () => {
      const q = await page.getByTestId('harness-query-editor').innerText();
      const c = await page.getByTestId('harness-config-editor').innerText();
      assert.ok(q.trim().length > 0 && c.trim().length > 0, `query editor: ${q}\nconfig editor: ${c}`);
      assert.ok((await page.locator('[data-testid="harness-config-editor"] input').count()) >= 4);
    });
    await page.getByTestId('harness-panel').screenshot({ path: path.join(shotsDir, `choropleth-${theme}.png`) });
    await check(`${theme}: no console errors, failed or internet requests`, async () => {
      assert.deepEqual(problems, []);
    });
    await page.close();
  }

  const problems = [];
  const small = await open(browser, base, 'theme=light&metric=appeals&width=420&height=300', problems);
  await check('resized to 420×300 (metric: appeals): the map fits and a zero municipality is the bluest', async () => {
    const box = await small.locator('[data-testid="choropleth-map"]').evaluate((svg) => {
      const b = svg.getBBox();
      return [b.x, b.y, b.x + b.width, b.y + b.height];
    });
    assert.ok(box[0] >= 0 && box[1] >= 0 && box[2] <= 420 && box[3] <= 300, `drawing spans ${box}`);
    const c = rgb(await small.locator(`[data-oktmo="${quiet.oktmo}"]`).evaluate((el) => getComputedStyle(el).fill));
    assert.deepEqual(c, [44, 123, 182]);
    assert.match(await small.getByTestId('choropleth-legend').innerText(), /Обращения/);
    assert.deepEqual(problems, []);
  });
} finally {
  await browser.close();
  server.close();
}
console.log(failures ? `${failures} browser check(s) failed` : `browser checks passed; screenshots in ${shotsDir}`);
process.exit(failures ? 1 : 0);
