/* eslint-disable @typescript-eslint/no-deprecated -- Select: Combobox is not in Grafana 11.0 (kept from the >=11.0.0 days; grafanaDependency is now >=12.4.0) */
import React from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { MessageKey, t } from '../i18n';
import { AppealsDataSourceOptions, AppealsQuery, OPTION_RESOURCES, OptionResource, VariableQuery } from '../types';

type Props = QueryEditorProps<DataSource, AppealsQuery, AppealsDataSourceOptions, VariableQuery>;

const FILTER_LABEL: Record<OptionResource, MessageKey> = {
  municipalities: 'filter.municipalities',
  categories: 'filter.categories',
  themes: 'filter.themes',
  agencies: 'filter.agencies',
  sources: 'filter.sources',
  statuses: 'filter.statuses',
};

export function resourceOptions(): Array<SelectableValue<OptionResource>> {
  return OPTION_RESOURCES.map((r) => ({ label: t(FILTER_LABEL[r]), value: r, description: r }));
}

/** Variable query: which option list (`{resource: "municipalities"}`) feeds the dashboard variable. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const q: VariableQuery = { ...(query ?? {}), refId: query?.refId ?? 'variable' };
  return (
    <InlineField label={t('variable.resource')} labelWidth={20}>
      <Select<OptionResource>
        inputId="variable-resource"
        aria-label={t('variable.resource')}
        width={40}
        placeholder={t('variable.placeholder')}
        options={resourceOptions()}
        value={q.resource ?? null}
        onChange={(v) => onChange({ ...q, resource: v.value })}
      />
    </InlineField>
  );
}
