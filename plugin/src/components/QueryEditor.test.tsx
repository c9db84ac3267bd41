import React from 'react';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { getTemplateSrv } from '@grafana/runtime';

import { QueryEditor } from './QueryEditor';
import { DataSource } from '../datasource';
import { fakeTemplateSrv } from '../testutil/fakeTemplateSrv';
import { AppealsQuery, OptionResource, ResourceOption } from '../types';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: jest.fn(),
}));

const lists: Record<OptionResource, ResourceOption[]> = {
  municipalities: [
    { value: '61701000', text: 'г. Рязань' },
    { value: '61610000', text: 'Скопинский район' },
  ],
  categories: [{ value: 'housing', text: 'ЖКХ' }],
  themes: [{ value: 'heating', text: 'Отопление' }],
  agencies: [{ value: 'minstroy', text: 'Минстрой' }],
  sources: [{ value: 'vk', text: 'ВКонтакте' }],
  statuses: [{ value: 'new', text: 'Новое' }],
};

function fakeDatasource(fail: Partial<Record<OptionResource, string>> = {}) {
  const getOptions = jest.fn((r: OptionResource) =>
    fail[r] ? Promise.reject(new Error(fail[r])) : Promise.resolve(lists[r])
  );
  return { ds: { getOptions, region: 'RU-RYA' } as unknown as DataSource, getOptions };
}

async function renderEditor(query: AppealsQuery, fail: Partial<Record<OptionResource, string>> = {}) {
  const { ds, getOptions } = fakeDatasource(fail);
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const utils = render(<QueryEditor datasource={ds} query={query} onChange={onChange} onRunQuery={onRunQuery} />);
  await waitFor(() => expect(getOptions).toHaveBeenCalledTimes(6));
  await act(async () => {});
  return { ...utils, onChange, onRunQuery, getOptions };
}

function openSelect(inputId: string) {
  const input = document.getElementById(inputId)!;
  fireEvent.focus(input);
  fireEvent.keyDown(input, { key: 'ArrowDown', keyCode: 40 });
}

beforeEach(() => {
  jest
    .mocked(getTemplateSrv)
    .mockReturnValue(fakeTemplateSrv([{ name: 'municipality', label: 'Муниципалитет', value: ['61701000'] }]));
});

describe('QueryEditor', () => {
  it('loads every option list from the resources', async () => {
    const { getOptions } = await renderEditor({ refId: 'A' });
    expect(getOptions.mock.calls.map((c) => c[0]).sort()).toEqual([
      'agencies',
      'categories',
      'municipalities',
      'sources',
      'statuses',
      'themes',
    ]);
  });

  it('shows the query types in Russian and switches the type', async () => {
    const { onChange, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'heatmap' });
    for (const label of ['Тепловая карта', 'Динамика', 'Топ', 'Сроки (SLA)', 'Обращения', 'Планирование']) {
      expect(screen.getByText(label)).toBeInTheDocument();
    }
    fireEvent.click(screen.getByText('Топ'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'top' }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('fills the municipality multi-select from the resource and stores OKTMO codes', async () => {
    const { onChange, onRunQuery } = await renderEditor({ refId: 'A', filters: { categories: ['housing'] } });
    openSelect('query-filter-municipalities');
    const option = await screen.findByText('г. Рязань');
    fireEvent.click(option);
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ filters: { categories: ['housing'], municipalities: ['61701000'] } })
    );
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers dashboard variables as filter values', async () => {
    const { onChange } = await renderEditor({ refId: 'A' });
    openSelect('query-filter-municipalities');
    fireEvent.click(await screen.findByText('$municipality'));
    expect(onChange.mock.lastCall[0].filters).toEqual({ municipalities: ['$municipality'] });
  });

  it('shows selected values by their text, unknown values as typed', async () => {
    await renderEditor({ refId: 'A', filters: { statuses: ['new', 'weird'] } });
    expect(screen.getByText('Новое')).toBeInTheDocument();
    expect(screen.getByText('weird')).toBeInTheDocument();
  });

  it('removing the last value removes the filter (no filter = all)', async () => {
    const { onChange } = await renderEditor({ refId: 'A', filters: { statuses: ['new'], themes: ['heating'] } });
    const chip = screen.getByText('Новое').parentElement!;
    fireEvent.click(within(chip).getByRole('button'));
    expect(onChange.mock.lastCall[0].filters).toEqual({ themes: ['heating'] });
  });

  it('reports a resource that failed to load', async () => {
    await renderEditor({ refId: 'A' }, { themes: 'ClickHouse недоступен' });
    expect(await screen.findByText(/Не удалось загрузить список: ClickHouse недоступен/)).toBeInTheDocument();
  });

  it('timeseries: group by and live switch', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'timeseries' });
    expect(screen.queryByLabelText('Лимит')).not.toBeInTheDocument();
    fireEvent.click(screen.getByLabelText('Онлайн'));
    expect(onChange.mock.lastCall[0]).toMatchObject({ queryType: 'timeseries', live: true });
    openSelect('query-group-by');
    fireEvent.click(await screen.findByText('Источник'));
    expect(onChange.mock.lastCall[0].groupBy).toBe('source');
  });

  it('sla offers only agency and municipality grouping', async () => {
    await renderEditor({ refId: 'A', queryType: 'sla' });
    expect(screen.queryByLabelText('Онлайн')).not.toBeInTheDocument();
    openSelect('query-group-by');
    const menu = await screen.findByLabelText('Select options menu');
    expect(within(menu).getByText('Ведомство')).toBeInTheDocument();
    expect(within(menu).getByText('Муниципалитет')).toBeInTheDocument();
    expect(within(menu).queryByText('Источник')).not.toBeInTheDocument();
    expect(within(menu).queryByText('Категория')).not.toBeInTheDocument();
  });

  it('top: dimension and a limit clamped to 10000', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'top' });
    fireEvent.click(screen.getByText('Тема'));
    expect(onChange.mock.lastCall[0].dimension).toBe('theme');
    const limit = screen.getByLabelText('Лимит');
    expect(limit).toHaveAttribute('placeholder', '10');
    fireEvent.change(limit, { target: { value: '25000' } });
    fireEvent.blur(limit);
    expect(onChange.mock.lastCall[0].limit).toBe(10000);
  });

  it('heatmap: baseline days and measure', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'heatmap' });
    const days = screen.getByLabelText('База, дней');
    fireEvent.change(days, { target: { value: '30' } });
    fireEvent.blur(days);
    expect(onChange.mock.lastCall[0].baselineDays).toBe(30);
    fireEvent.click(screen.getByText('Голоса'));
    expect(onChange.mock.lastCall[0].measure).toBe('voices');
  });
});
