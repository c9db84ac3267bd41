/* eslint-disable @typescript-eslint/no-deprecated -- Select/MultiSelect: Combobox is not in Grafana 11.0 (kept from the >=11.0.0 days; grafanaDependency is now >=12.4.0) */
import React, { useEffect, useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import {
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  MultiSelect,
  RadioButtonGroup,
  Select,
  Stack,
} from '@grafana/ui';

import { DataSource } from '../datasource';
import { MessageKey, t } from '../i18n';
import {
  AppealsDataSourceOptions,
  AppealsQuery,
  DEFAULT_BASELINE_DAYS,
  DEFAULT_QUERY,
  defaultLimit,
  Dimension,
  DIMENSIONS,
  FILTER_KEYS,
  FILTER_RESOURCE,
  FilterKey,
  GroupBy,
  isQueryType,
  LIMIT_MAX,
  Measure,
  MEASURES,
  OptionResource,
  QUERY_TYPES,
  QueryType,
  ResourceOption,
  SLA_GROUP_BY,
  TIMESERIES_GROUP_BY,
} from '../types';

type Props = QueryEditorProps<DataSource, AppealsQuery, AppealsDataSourceOptions>;

const LABEL_WIDTH = 18;

export function queryTypeOptions(): Array<SelectableValue<QueryType>> {
  return QUERY_TYPES.map((q) => ({ label: t(`queryType.${q}` as MessageKey), value: q }));
}

function dimLabel(d: string): string {
  return t(`dim.${d}` as MessageKey);
}

/** `$name` entries for the dashboard's template variables, so filters can follow a (multi-value) variable. */
function variableOptions(): Array<SelectableValue<string>> {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: v.label || undefined }));
  } catch {
    return [];
  }
}

type OptionState = Partial<Record<OptionResource, ResourceOption[]>>;
type ErrorState = Partial<Record<OptionResource, string>>;

/** Loads every option-list resource once per editor (DataSource.getOptions caches between editors). */
export function useResourceOptions(datasource: DataSource): { options: OptionState; errors: ErrorState } {
  const [options, setOptions] = useState<OptionState>({});
  const [errors, setErrors] = useState<ErrorState>({});
  useEffect(() => {
    let cancelled = false;
    const resources = Array.from(new Set(Object.values(FILTER_RESOURCE).filter(Boolean))) as OptionResource[];
    for (const resource of resources) {
      datasource
        .getOptions(resource)
        .then((list) => {
          if (!cancelled) {
            setOptions((prev) => ({ ...prev, [resource]: list }));
          }
        })
        .catch((err: unknown) => {
          if (!cancelled) {
            const message =
              (err as { message?: string; data?: { message?: string } })?.data?.message ??
              (err as { message?: string })?.message ??
              String(err);
            setErrors((prev) => ({ ...prev, [resource]: message }));
          }
        });
    }
    return () => {
      cancelled = true;
    };
  }, [datasource]);
  return { options, errors };
}

function toSelected(values: string[], options: Array<SelectableValue<string>>): Array<SelectableValue<string>> {
  return values.map((v) => options.find((o) => o.value === v) ?? { label: v, value: v });
}

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const { options, errors } = useResourceOptions(datasource);
  const varOptions = useMemo(() => variableOptions(), []);

  const queryType: QueryType = isQueryType(query.queryType) ? query.queryType : DEFAULT_QUERY.queryType!;
  const measure: Measure = query.measure === 'voices' ? 'voices' : 'incidents';
  const filters = query.filters ?? {};

  const change = (patch: Partial<AppealsQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };

  const setFilter = (key: FilterKey, values: string[]) => {
    const next = { ...filters };
    if (values.length === 0) {
      delete next[key];
    } else {
      next[key] = values;
    }
    change({ filters: next });
  };

  const filterOptions = (key: FilterKey): Array<SelectableValue<string>> => {
    const resource = FILTER_RESOURCE[key];
    const base: Array<SelectableValue<string>> = resource
      ? (options[resource] ?? []).map((o) => ({
          label: o.text,
          value: o.value,
          description: o.text !== o.value ? o.value : undefined,
        }))
      : [{ label: datasource.region, value: datasource.region }];
    return [...base, ...varOptions];
  };

  const groupByValues: readonly GroupBy[] = queryType === 'sla' ? SLA_GROUP_BY : TIMESERIES_GROUP_BY;
  const groupBy =
    query.groupBy && groupByValues.includes(query.groupBy) ? query.groupBy : queryType === 'sla' ? 'agency' : 'none';
  const limitDefault = defaultLimit(queryType);

  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField label={t('queryType.label')} labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<QueryType>
            options={queryTypeOptions()}
            value={queryType}
            onChange={(v) => change({ queryType: v })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label={t('measure.label')} labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<Measure>
            options={MEASURES.map((m) => ({ label: t(`measure.${m}` as MessageKey), value: m }))}
            value={measure}
            onChange={(v) => change({ measure: v })}
          />
        </InlineField>
        {(queryType === 'timeseries' || queryType === 'sla') && (
          <InlineField label={t('groupBy.label')} labelWidth={LABEL_WIDTH}>
            <Select<GroupBy>
              inputId="query-group-by"
              aria-label={t('groupBy.label')}
              width={24}
              options={groupByValues.map((g) => ({ label: dimLabel(g), value: g }))}
              value={groupBy}
              onChange={(v) => change({ groupBy: v.value })}
            />
          </InlineField>
        )}
        {queryType === 'top' && (
          <InlineField label={t('dimension.label')} labelWidth={LABEL_WIDTH}>
            <RadioButtonGroup<Dimension>
              options={DIMENSIONS.map((d) => ({ label: dimLabel(d), value: d }))}
              value={query.dimension ?? 'category'}
              onChange={(v) => change({ dimension: v })}
            />
          </InlineField>
        )}
        {limitDefault !== undefined && (
          <InlineField label={t('limit.label')} labelWidth={LABEL_WIDTH}>
            <Input
              id="query-limit"
              aria-label={t('limit.label')}
              type="number"
              min={1}
              max={LIMIT_MAX}
              width={12}
              placeholder={String(limitDefault)}
              defaultValue={query.limit ?? ''}
              key={`limit-${queryType}`}
              onBlur={(e) => change({ limit: numberOrUndefined(e.currentTarget.value, LIMIT_MAX) })}
            />
          </InlineField>
        )}
        {queryType === 'heatmap' && (
          <InlineField label={t('baselineDays.label')} labelWidth={LABEL_WIDTH}>
            <Input
              id="query-baseline-days"
              aria-label={t('baselineDays.label')}
              type="number"
              min={1}
              width={12}
              placeholder={String(DEFAULT_BASELINE_DAYS)}
              defaultValue={query.baselineDays ?? ''}
              onBlur={(e) => change({ baselineDays: numberOrUndefined(e.currentTarget.value) })}
            />
          </InlineField>
        )}
        {queryType === 'timeseries' && (
          <InlineField label={t('live.label')} labelWidth={LABEL_WIDTH} tooltip={t('live.tooltip')}>
            <InlineSwitch
              id="query-live"
              aria-label={t('live.label')}
              value={query.live === true}
              onChange={(e) => change({ live: e.currentTarget.checked })}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      {FILTER_KEYS.map((key) => {
        const resource = FILTER_RESOURCE[key];
        const opts = filterOptions(key);
        const error = resource ? errors[resource] : undefined;
        return (
          <InlineFieldRow key={key}>
            <InlineField
              label={t(`filter.${key}` as MessageKey)}
              labelWidth={LABEL_WIDTH}
              invalid={Boolean(error)}
              error={error ? `${t('filter.loadError')}: ${error}` : undefined}
            >
              <MultiSelect<string>
                inputId={`query-filter-${key}`}
                aria-label={t(`filter.${key}` as MessageKey)}
                width={60}
                allowCustomValue
                isClearable
                isLoading={Boolean(resource) && options[resource!] === undefined && !error}
                placeholder={t('filter.placeholder')}
                options={opts}
                value={toSelected(filters[key] ?? [], opts)}
                onChange={(selected) =>
                  setFilter(
                    key,
                    (selected ?? []).map((s) => s.value).filter((v): v is string => typeof v === 'string' && v !== '')
                  )
                }
              />
            </InlineField>
          </InlineFieldRow>
        );
      })}
    </Stack>
  );
}

function numberOrUndefined(raw: string, max?: number): number | undefined {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) {
    return undefined;
  }
  const v = Math.floor(n);
  return max !== undefined ? Math.min(v, max) : v;
}
