import { config } from '@grafana/runtime';

import { detectLang, normalizeLang, t } from './i18n';

const cfg = config as unknown as { bootData: unknown; language?: string };
const saved = { bootData: cfg.bootData, language: cfg.language };

afterEach(() => {
  cfg.bootData = saved.bootData;
  cfg.language = saved.language;
});

describe('i18n', () => {
  it('normalizes BCP 47 tags', () => {
    expect(normalizeLang('ru-RU')).toBe('ru');
    expect(normalizeLang('en_GB')).toBe('en');
    expect(normalizeLang('EN')).toBe('en');
    expect(normalizeLang('de-DE')).toBeUndefined();
    expect(normalizeLang(undefined)).toBeUndefined();
  });

  it('defaults to Russian', () => {
    cfg.bootData = { user: {} };
    cfg.language = undefined;
    expect(detectLang()).toBe('ru');
    expect(t('queryType.heatmap')).toBe('Тепловая карта');
  });

  it("follows the user's language from boot data", () => {
    cfg.bootData = { user: { language: 'en-US' } };
    expect(detectLang()).toBe('en');
    expect(t('queryType.heatmap')).toBe('Heat map');
    cfg.bootData = { user: { language: 'ru-RU' } };
    cfg.language = 'en-US';
    expect(detectLang()).toBe('ru');
  });

  it('falls back to config.language, then Russian for unsupported languages', () => {
    cfg.bootData = { user: {} };
    cfg.language = 'en-US';
    expect(detectLang()).toBe('en');
    cfg.bootData = { user: { language: 'de-DE' } };
    cfg.language = 'fr-FR';
    expect(detectLang()).toBe('ru');
  });

  it('has the Russian query type names of the spec', () => {
    expect(
      ['heatmap', 'timeseries', 'top', 'sla', 'appeals', 'planning'].map((q) => t(`queryType.${q}` as never, 'ru'))
    ).toEqual(['Тепловая карта', 'Динамика', 'Топ', 'Сроки (SLA)', 'Обращения', 'Планирование']);
  });

  it('falls back to English for a key missing in Russian, then to the key', () => {
    expect(t('nope' as never, 'ru')).toBe('nope');
    expect(t('filter.municipalities', 'en')).toBe('Municipalities');
  });
});
