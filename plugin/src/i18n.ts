import { config } from '@grafana/runtime';

/**
 * A tiny i18n map: Russian is the default, English the fallback. The language is taken from the signed-in
 * user's Grafana preferences (config.bootData.user.language, then config.language / locale) when available.
 */
export type Lang = 'ru' | 'en';

const en = {
  'queryType.label': 'Query type',
  'queryType.heatmap': 'Heat map',
  'queryType.timeseries': 'Trend',
  'queryType.top': 'Top',
  'queryType.sla': 'Deadlines (SLA)',
  'queryType.appeals': 'Appeals',
  'queryType.planning': 'Planning',
  'measure.label': 'Measure',
  'measure.incidents': 'Incidents',
  'measure.voices': 'Voices',
  'groupBy.label': 'Group by',
  'dimension.label': 'Dimension',
  'dim.category': 'Category',
  'dim.theme': 'Theme',
  'dim.municipality': 'Municipality',
  'dim.source': 'Source',
  'dim.agency': 'Agency',
  'dim.none': 'No grouping',
  'limit.label': 'Limit',
  'baselineDays.label': 'Baseline, days',
  'live.label': 'Live',
  'live.tooltip': 'Stream live counts over Grafana Live (channel ds/<uid>/counts) instead of a normal query',
  'filters.label': 'Filters',
  'filter.regions': 'Regions',
  'filter.municipalities': 'Municipalities',
  'filter.categories': 'Categories',
  'filter.themes': 'Themes',
  'filter.sources': 'Sources',
  'filter.agencies': 'Agencies',
  'filter.statuses': 'Statuses',
  'filter.placeholder': 'All',
  'filter.loadError': 'Could not load options',
  'variable.resource': 'Values of',
  'variable.placeholder': 'Choose a list',
  'config.clickhouse': 'ClickHouse',
  'config.redis': 'Redis (live counters)',
  'config.region': 'Region and map',
  'config.host': 'Host',
  'config.port': 'Port',
  'config.database': 'Database',
  'config.username': 'User',
  'config.password': 'Password',
  'config.tls': 'TLS',
  'config.tlsSkipVerify': 'Skip TLS verification',
  'config.regionCode': 'Default region',
  'config.regionCode.tooltip': 'ISO 3166-2 code of the region, e.g. RU-RYA',
  'config.redisAddr': 'Address',
  'config.redisAddr.tooltip': 'host:port; or the Sentinels, comma-separated, with a master name; or several Redis Cluster nodes',
  'config.redisMasterName': 'Sentinel master',
  'config.redisPassword': 'Password',
  'config.redisSentinelPassword': 'Sentinel password',
  'config.boundaryFile': 'Boundary file',
  'config.boundaryFile.tooltip': 'Optional GeoJSON with municipal boundaries on the Grafana server; empty = built-in',
  'map.metric.heat': 'Heat index',
  'map.metric.appeals': 'Appeals',
  'map.metric.incidents': 'Incidents',
  'map.metric.per_10k': 'Per 10,000 residents',
  'map.baseline': 'Baseline',
  'map.top': 'Top categories',
  'map.noData': 'no data',
  'map.unknown.title': 'Appeals whose municipality is not known',
  'map.loadError': 'Boundaries not loaded',
};

export type MessageKey = keyof typeof en;

const ru: Partial<Record<MessageKey, string>> = {
  'queryType.label': 'Тип запроса',
  'queryType.heatmap': 'Тепловая карта',
  'queryType.timeseries': 'Динамика',
  'queryType.top': 'Топ',
  'queryType.sla': 'Сроки (SLA)',
  'queryType.appeals': 'Обращения',
  'queryType.planning': 'Планирование',
  'measure.label': 'Показатель',
  'measure.incidents': 'Инциденты',
  'measure.voices': 'Голоса',
  'groupBy.label': 'Группировка',
  'dimension.label': 'Разрез',
  'dim.category': 'Категория',
  'dim.theme': 'Тема',
  'dim.municipality': 'Муниципалитет',
  'dim.source': 'Источник',
  'dim.agency': 'Ведомство',
  'dim.none': 'Без группировки',
  'limit.label': 'Лимит',
  'baselineDays.label': 'База, дней',
  'live.label': 'Онлайн',
  'live.tooltip': 'Поток счётчиков через Grafana Live (канал ds/<uid>/counts) вместо обычного запроса',
  'filters.label': 'Фильтры',
  'filter.regions': 'Регионы',
  'filter.municipalities': 'Муниципалитеты',
  'filter.categories': 'Категории',
  'filter.themes': 'Темы',
  'filter.sources': 'Источники',
  'filter.agencies': 'Ведомства',
  'filter.statuses': 'Статусы',
  'filter.placeholder': 'Все',
  'filter.loadError': 'Не удалось загрузить список',
  'variable.resource': 'Значения из',
  'variable.placeholder': 'Выберите список',
  'config.clickhouse': 'ClickHouse',
  'config.redis': 'Redis (онлайн-счётчики)',
  'config.region': 'Регион и карта',
  'config.host': 'Хост',
  'config.port': 'Порт',
  'config.database': 'База данных',
  'config.username': 'Пользователь',
  'config.password': 'Пароль',
  'config.tls': 'TLS',
  'config.tlsSkipVerify': 'Не проверять сертификат',
  'config.regionCode': 'Регион по умолчанию',
  'config.regionCode.tooltip': 'Код региона ISO 3166-2, например RU-RYA',
  'config.redisAddr': 'Адрес',
  'config.redisAddr.tooltip': 'host:port; или адреса Sentinel через запятую вместе с именем мастера; или несколько узлов Redis Cluster',
  'config.redisMasterName': 'Мастер Sentinel',
  'config.redisPassword': 'Пароль',
  'config.redisSentinelPassword': 'Пароль Sentinel',
  'config.boundaryFile': 'Файл границ',
  'config.boundaryFile.tooltip':
    'Необязательный GeoJSON с границами муниципалитетов на сервере Grafana; пусто = встроенный',
  'map.metric.heat': 'Индекс тепла',
  'map.metric.appeals': 'Обращения',
  'map.metric.incidents': 'Инциденты',
  'map.metric.per_10k': 'На 10 тыс. жителей',
  'map.baseline': 'Базовый уровень',
  'map.top': 'Топ категорий',
  'map.noData': 'нет данных',
  'map.unknown.title': 'Обращения, место которых не определено',
  'map.loadError': 'Граница не загружена',
};

const messages: Record<Lang, Partial<Record<MessageKey, string>>> = { ru, en };

/** Maps a BCP 47 tag (ru-RU, en-US, …) to a supported language; anything else stays Russian (the default). */
export function normalizeLang(tag: string | undefined | null): Lang | undefined {
  if (!tag) {
    return undefined;
  }
  const base = tag.toLowerCase().split(/[-_]/)[0];
  if (base === 'ru' || base === 'en') {
    return base;
  }
  return undefined;
}

/** The user's language from Grafana's boot data; Russian when nothing tells otherwise. */
export function detectLang(): Lang {
  const cfg = config as unknown as {
    bootData?: { user?: { language?: string; locale?: string } };
    language?: string;
    locale?: string;
  };
  const candidates = [cfg?.bootData?.user?.language, cfg?.language, cfg?.bootData?.user?.locale, cfg?.locale];
  for (const c of candidates) {
    const lang = normalizeLang(c);
    if (lang) {
      return lang;
    }
  }
  return 'ru';
}

/** Translate a key into `lang` (default: the detected language), falling back to English, then to the key. */
export function t(key: MessageKey, lang: Lang = detectLang()): string {
  return messages[lang][key] ?? en[key] ?? key;
}
