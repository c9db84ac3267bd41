import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { DataSourceSettings } from '@grafana/data';

import { ConfigEditor } from './ConfigEditor';
import { AppealsDataSourceOptions, AppealsSecureJsonData } from '../types';

type Options = DataSourceSettings<AppealsDataSourceOptions, AppealsSecureJsonData>;

const options = (jsonData: AppealsDataSourceOptions, secureJsonFields: Record<string, boolean> = {}): Options =>
  ({
    id: 1,
    uid: 'tk',
    name: 'teplokarta',
    type: 'teplokarta-appeals-datasource',
    jsonData,
    secureJsonFields,
    secureJsonData: {},
  }) as unknown as Options;

const full: AppealsDataSourceOptions = { host: 'ch', port: 9000, database: 'teplokarta', region: 'RU-RYA' };

describe('ConfigEditor', () => {
  it('writes the contract defaults into a new data source', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options({})} onOptionsChange={onOptionsChange} />);
    expect(onOptionsChange).toHaveBeenCalledTimes(1);
    expect(onOptionsChange.mock.calls[0][0].jsonData).toEqual({ port: 9000, database: 'teplokarta', region: 'RU-RYA' });
  });

  it('does not touch a configured data source on mount', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options(full)} onOptionsChange={onOptionsChange} />);
    expect(onOptionsChange).not.toHaveBeenCalled();
  });

  it('shows Russian labels and the current values', () => {
    render(<ConfigEditor options={options({ ...full, redisAddr: 'redis:6379' })} onOptionsChange={jest.fn()} />);
    expect(screen.getByText('Хост')).toBeInTheDocument();
    expect(screen.getByText('Регион по умолчанию')).toBeInTheDocument();
    expect(screen.getByLabelText('Хост')).toHaveValue('ch');
    expect(screen.getByLabelText('Порт')).toHaveValue(9000);
    expect(screen.getByLabelText('Адрес Redis')).toHaveValue('redis:6379');
  });

  it('updates string, number and boolean jsonData fields', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options(full)} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('Хост'), { target: { value: 'clickhouse.local' } });
    expect(onOptionsChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ jsonData: { ...full, host: 'clickhouse.local' } })
    );
    fireEvent.change(screen.getByLabelText('Порт'), { target: { value: '9440' } });
    expect(onOptionsChange.mock.lastCall[0].jsonData.port).toBe(9440);
    fireEvent.change(screen.getByLabelText('Файл границ'), { target: { value: '/data/b.geojson' } });
    expect(onOptionsChange.mock.lastCall[0].jsonData.boundaryFile).toBe('/data/b.geojson');
    fireEvent.click(screen.getByLabelText('TLS'));
    expect(onOptionsChange.mock.lastCall[0].jsonData.tls).toBe(true);
    fireEvent.change(screen.getByLabelText('Мастер Sentinel'), { target: { value: 'teplokarta' } });
    expect(onOptionsChange.mock.lastCall[0].jsonData.redisMasterName).toBe('teplokarta');
  });

  it('keeps secrets in secureJsonData and can reset a configured one', () => {
    const onOptionsChange = jest.fn();
    const { rerender, container } = render(<ConfigEditor options={options(full)} onOptionsChange={onOptionsChange} />);
    fireEvent.change(container.querySelector('#config-password')!, { target: { value: 's3cret' } });
    const changed = onOptionsChange.mock.lastCall[0];
    expect(changed.secureJsonData).toEqual({ password: 's3cret' });
    expect(changed.jsonData).not.toHaveProperty('password');

    rerender(<ConfigEditor options={options(full, { redisPassword: true })} onOptionsChange={onOptionsChange} />);
    const resetButtons = screen.getAllByRole('button', { name: /reset/i });
    expect(resetButtons).toHaveLength(1);
    fireEvent.click(resetButtons[0]);
    const reset = onOptionsChange.mock.lastCall[0];
    expect(reset.secureJsonFields.redisPassword).toBe(false);
    expect(reset.secureJsonData.redisPassword).toBe('');
  });
});
