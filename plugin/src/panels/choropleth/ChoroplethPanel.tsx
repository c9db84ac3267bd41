import React, { useEffect, useMemo, useState } from 'react';
import { css as cx } from '@emotion/css';
import { GrafanaTheme2, PanelProps } from '@grafana/data';
import { config } from '@grafana/runtime';
import { useStyles2, useTheme2 } from '@grafana/ui';

import { at, css, domain, gradient, position, rgbAt } from './colour';
import { t } from '../../i18n';
import { heatmapFrame, joinFrame, linkFor, metricTitle, MunicipalityRow, value } from './join';
import { Area, areasFromGeoJSON, fit, pathOf, tiles, tileUrl } from './projection';
import { ChoroplethOptions, PANEL_ID } from './types';

type Props = PanelProps<ChoroplethOptions>;

/** geojsonUrl resolves the option: a URL or site path as is, anything else inside the panel plugin's directory. */
export function geojsonUrl(option: string): string {
  if (/^(https?:)?\/\//.test(option) || option.startsWith('/')) {
    return option;
  }
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- its replacements say whether a panel is installed, not where its files are served
  const base = config.panels?.[PANEL_ID]?.baseUrl ?? `public/plugins/${PANEL_ID}`;
  // Grafana's baseUrl is relative to its <base href>; made absolute so it holds on any page and sub-path.
  const root = /^(https?:)?\/\//.test(base) || base.startsWith('/') ? '' : `${config.appSubUrl ?? ''}/`;
  return `${root}${base.replace(/\/$/, '')}/${option}`;
}

// Boundary files are a few hundred KB: read each once per page, not on every resize or refresh.
const cache = new Map<string, Promise<Area[]>>();

function loadAreas(url: string): Promise<Area[]> {
  let p = cache.get(url);
  if (!p) {
    p = fetch(url)
      .then((r) => {
        if (!r.ok) {
          throw new Error(`${url}: HTTP ${r.status}`);
        }
        return r.json();
      })
      .then(areasFromGeoJSON);
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return p;
}

const nf = new Intl.NumberFormat('ru-RU', { maximumFractionDigits: 0 });
const nf2 = new Intl.NumberFormat('ru-RU', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function fmt(v: number | null, decimals: boolean): string {
  return v === null ? '—' : (decimals ? nf2 : nf).format(v);
}

interface Hover {
  key: string;
  x: number;
  y: number;
}

export function ChoroplethPanel({ data, width, height, options, replaceVariables }: Props) {
  const theme = useTheme2();
  const s = useStyles2(getStyles);
  const [areas, setAreas] = useState<Area[]>([]);
  const [error, setError] = useState<string>();
  const [hover, setHover] = useState<Hover>();

  const url = geojsonUrl(options.geojson);
  useEffect(() => {
    let live = true;
    loadAreas(url).then(
      (a) => live && (setAreas(a), setError(undefined)),
      (e: Error) => live && setError(`${t('map.loadError')}: ${e.message}`)
    );
    return () => {
      live = false;
    };
  }, [url]);

  const joined = useMemo(() => joinFrame(heatmapFrame(data.series)), [data.series]);
  const metric = options.metric;
  const decimals = metric === 'heat' || metric === 'per_10k';
  const log = metric === 'heat'; // a ratio: see colour.position
  const dom = useMemo(() => domain(areas.map((a) => value(joined.rows.get(a.key), metric))), [areas, joined, metric]);
  const f = useMemo(() => fit(areas, width, height), [areas, width, height]);
  const paths = useMemo(() => areas.map((a) => ({ area: a, d: pathOf(f, a) })), [areas, f]);
  const base = options.baseLayerUrl ? tiles(f, width, height) : [];

  const fillOf = (row: MunicipalityRow | undefined) => {
    const v = value(row, metric);
    return v === null ? theme.colors.action.disabledBackground : css(rgbAt(position(v, dom, log)));
  };
  const hovered = hover ? joined.rows.get(hover.key) : undefined;
  const hoveredArea = hover ? areas.find((a) => a.key === hover.key) : undefined;

  return (
    <div className={s.root} style={{ width, height }} onMouseLeave={() => setHover(undefined)}>
      <svg width={width} height={height} className={s.svg} data-testid="choropleth-map">
        {base.map((t) => (
          <image
            key={`${t.z}/${t.x}/${t.y}`}
            href={tileUrl(options.baseLayerUrl, t)}
            x={t.left}
            y={t.top}
            width={t.size}
            height={t.size}
            opacity={0.6}
          />
        ))}
        {paths.map(({ area, d }) => {
          const row = joined.rows.get(area.key);
          const href = replaceVariables(linkFor(options.link, { oktmo: area.key, name: row?.name ?? area.name }));
          return (
            <a key={area.key} href={href} data-testid="choropleth-link" aria-label={row?.name ?? area.name}>
              <path
                d={d}
                fillRule="evenodd"
                data-testid="choropleth-area"
                data-oktmo={area.key}
                style={{ fill: fillOf(row) }}
                stroke={theme.colors.background.primary}
                strokeWidth={0.9}
                onMouseMove={(e) => {
                  const box = (e.currentTarget.ownerSVGElement as SVGSVGElement).getBoundingClientRect();
                  setHover({ key: area.key, x: e.clientX - box.left, y: e.clientY - box.top });
                }}
              />
            </a>
          );
        })}
        {hover && (
          // the hovered outline on top: drawn in place, neighbours painted later would cover half of it
          <path
            d={paths.find((p) => p.area.key === hover.key)?.d}
            fill="none"
            stroke={theme.colors.text.primary}
            strokeWidth={2}
            pointerEvents="none"
          />
        )}
      </svg>
      {error && <div className={s.error}>{error}</div>}
      {joined.unknown && (
        <div className={s.unknown} data-testid="choropleth-unknown" title={t('map.unknown.title')}>
          {joined.unknown.name}: <b>{nf.format(joined.unknown.appeals)}</b>
        </div>
      )}
      {options.showLegend && (
        <div className={s.legend} data-testid="choropleth-legend">
          <div>{metricTitle(metric)}</div>
          <div className={s.bar} style={{ background: gradient() }} />
          <div className={s.ticks}>
            <span>{fmt(dom[0], decimals)}</span>
            <span>{fmt(at(0.5, dom, log), decimals)}</span>
            <span>{fmt(dom[1], decimals)}</span>
          </div>
        </div>
      )}
      <div className={s.attribution} data-testid="choropleth-attribution">
        ©{' '}
        <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noreferrer">
          OpenStreetMap contributors
        </a>
      </div>
      {hover && hoveredArea && (
        <div className={s.tooltip} data-testid="choropleth-tooltip" style={tipPosition(hover, width, height)}>
          <div className={s.tipTitle}>{hovered?.name ?? hoveredArea.name}</div>
          {hovered ? (
            <table>
              <tbody>
                <tr>
                  <td>{metricTitle('appeals')}</td>
                  <td>{fmt(hovered.appeals, false)}</td>
                </tr>
                <tr>
                  <td>{metricTitle('incidents')}</td>
                  <td>{fmt(hovered.incidents, false)}</td>
                </tr>
                <tr>
                  <td>{t('map.baseline')}</td>
                  <td>{fmt(hovered.baseline, false)}</td>
                </tr>
                <tr>
                  <td>{metricTitle('heat')}</td>
                  <td>{fmt(hovered.heat, true)}</td>
                </tr>
                {hovered.per10k !== null && (
                  <tr>
                    <td>{metricTitle('per_10k')}</td>
                    <td>{fmt(hovered.per10k, true)}</td>
                  </tr>
                )}
                <tr>
                  <td>{t('map.top')}</td>
                  <td>{hovered.topCategories || '—'}</td>
                </tr>
              </tbody>
            </table>
          ) : (
            <div>{t('map.noData')}</div>
          )}
        </div>
      )}
    </div>
  );
}

const TIP_W = 300;
const TIP_H = 190;

/** tipPosition keeps the tooltip inside the panel: beside the pointer, flipped left/up near the edges. */
function tipPosition(h: Hover, width: number, height: number): React.CSSProperties {
  const left = h.x + 12 + TIP_W <= width ? h.x + 12 : Math.max(0, h.x - 12 - TIP_W);
  const top = h.y + 12 + TIP_H <= height ? h.y + 12 : Math.max(0, h.y - 12 - TIP_H);
  return { left, top };
}

const getStyles = (theme: GrafanaTheme2) => ({
  root: cx({ position: 'relative', overflow: 'hidden', fontSize: theme.typography.bodySmall.fontSize }),
  svg: cx({ display: 'block', a: { cursor: 'pointer' } }),
  error: cx({ position: 'absolute', top: 4, left: 4, color: theme.colors.error.text }),
  unknown: cx({
    position: 'absolute',
    top: 4,
    right: 4,
    padding: theme.spacing(0.5, 1),
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
  }),
  legend: cx({
    position: 'absolute',
    left: 4,
    bottom: 4,
    width: 180,
    padding: theme.spacing(0.5, 1),
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
  }),
  bar: cx({ height: 10, margin: theme.spacing(0.5, 0) }),
  ticks: cx({ display: 'flex', justifyContent: 'space-between', color: theme.colors.text.secondary }),
  attribution: cx({
    a: { color: theme.colors.text.link },
    position: 'absolute',
    right: 2,
    bottom: 2,
    padding: '0 4px',
    fontSize: 10,
    background: theme.colors.background.secondary,
    opacity: 0.85,
    color: theme.colors.text.secondary,
  }),
  tooltip: cx({
    position: 'absolute',
    pointerEvents: 'none',
    width: TIP_W,
    padding: theme.spacing(1),
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.medium}`,
    borderRadius: theme.shape.radius.default,
    boxShadow: theme.shadows.z2,
    color: theme.colors.text.primary,
    td: { paddingRight: theme.spacing(1), verticalAlign: 'top' },
    'td:first-child': { whiteSpace: 'nowrap', color: theme.colors.text.secondary },
    'td:last-child': { textAlign: 'right', fontWeight: theme.typography.fontWeightMedium },
  }),
  tipTitle: cx({ fontWeight: theme.typography.fontWeightBold, marginBottom: theme.spacing(0.5) }),
});
