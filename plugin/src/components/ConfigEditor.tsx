import React, { ChangeEvent, useEffect } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { FieldSet, InlineField, InlineSwitch, Input, SecretInput } from '@grafana/ui';

import { t } from '../i18n';
import {
  AppealsDataSourceOptions,
  AppealsSecureJsonData,
  DEFAULT_DATABASE,
  DEFAULT_PORT,
  DEFAULT_REGION,
} from '../types';

type Props = DataSourcePluginOptionsEditorProps<AppealsDataSourceOptions, AppealsSecureJsonData>;
type StringKey = 'host' | 'database' | 'username' | 'region' | 'redisAddr' | 'redisMasterName' | 'boundaryFile';
type BoolKey = 'tls' | 'tlsSkipVerify';
type SecretKey = keyof AppealsSecureJsonData;

const LABEL_WIDTH = 24;
const INPUT_WIDTH = 40;

export function ConfigEditor(props: Props) {
  const { onOptionsChange, options } = props;
  const jsonData = options.jsonData ?? {};
  const secureJsonFields = options.secureJsonFields ?? {};
  const secureJsonData = options.secureJsonData ?? {};

  // A new data source gets the contract defaults written once so that the backend and the form agree.
  const missingDefaults = jsonData.port === undefined || !jsonData.database || !jsonData.region;
  useEffect(() => {
    if (missingDefaults) {
      onOptionsChange({
        ...options,
        jsonData: {
          ...jsonData,
          port: jsonData.port ?? DEFAULT_PORT,
          database: jsonData.database || DEFAULT_DATABASE,
          region: jsonData.region || DEFAULT_REGION,
        },
      });
    }
    // only on mount / when a default goes missing
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [missingDefaults]);

  const setJson = (patch: Partial<AppealsDataSourceOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  const onString = (key: StringKey) => (e: ChangeEvent<HTMLInputElement>) => setJson({ [key]: e.target.value });

  const onBool = (key: BoolKey) => (e: React.FormEvent<HTMLInputElement>) =>
    setJson({ [key]: e.currentTarget.checked });

  const onPort = (e: ChangeEvent<HTMLInputElement>) => {
    const raw = e.target.value.trim();
    const n = Number(raw);
    setJson({ port: raw === '' || !Number.isFinite(n) ? undefined : Math.trunc(n) });
  };

  const onSecret = (key: SecretKey) => (e: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: e.target.value } });

  const onResetSecret = (key: SecretKey) => () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secureJsonData, [key]: '' },
    });

  return (
    <>
      <FieldSet label={t('config.clickhouse')}>
        <InlineField label={t('config.host')} labelWidth={LABEL_WIDTH}>
          <Input
            id="config-host"
            aria-label={t('config.host')}
            value={jsonData.host ?? ''}
            placeholder="clickhouse"
            width={INPUT_WIDTH}
            onChange={onString('host')}
          />
        </InlineField>
        <InlineField label={t('config.port')} labelWidth={LABEL_WIDTH}>
          <Input
            id="config-port"
            aria-label={t('config.port')}
            type="number"
            value={jsonData.port ?? ''}
            placeholder={String(DEFAULT_PORT)}
            width={INPUT_WIDTH}
            onChange={onPort}
          />
        </InlineField>
        <InlineField label={t('config.database')} labelWidth={LABEL_WIDTH}>
          <Input
            id="config-database"
            aria-label={t('config.database')}
            value={jsonData.database ?? ''}
            placeholder={DEFAULT_DATABASE}
            width={INPUT_WIDTH}
            onChange={onString('database')}
          />
        </InlineField>
        <InlineField label={t('config.username')} labelWidth={LABEL_WIDTH}>
          <Input
            id="config-username"
            aria-label={t('config.username')}
            value={jsonData.username ?? ''}
            placeholder="default"
            width={INPUT_WIDTH}
            onChange={onString('username')}
          />
        </InlineField>
        <InlineField label={t('config.password')} labelWidth={LABEL_WIDTH}>
          <SecretInput
            id="config-password"
            aria-label={t('config.password')}
            isConfigured={Boolean(secureJsonFields.password)}
            value={secureJsonData.password ?? ''}
            width={INPUT_WIDTH}
            onReset={onResetSecret('password')}
            onChange={onSecret('password')}
          />
        </InlineField>
        <InlineField label={t('config.tls')} labelWidth={LABEL_WIDTH}>
          <InlineSwitch
            id="config-tls"
            aria-label={t('config.tls')}
            value={Boolean(jsonData.tls)}
            onChange={onBool('tls')}
          />
        </InlineField>
        <InlineField label={t('config.tlsSkipVerify')} labelWidth={LABEL_WIDTH} disabled={!jsonData.tls}>
          <InlineSwitch
            id="config-tls-skip-verify"
            aria-label={t('config.tlsSkipVerify')}
            value={Boolean(jsonData.tlsSkipVerify)}
            onChange={onBool('tlsSkipVerify')}
          />
        </InlineField>
      </FieldSet>
      <FieldSet label={t('config.redis')}>
        <InlineField label={t('config.redisAddr')} labelWidth={LABEL_WIDTH} tooltip={t('config.redisAddr.tooltip')}>
          <Input
            id="config-redis-addr"
            aria-label={t('config.redisAddr') + ' Redis'}
            value={jsonData.redisAddr ?? ''}
            placeholder="redis:6379"
            width={INPUT_WIDTH}
            onChange={onString('redisAddr')}
          />
        </InlineField>
        <InlineField label={t('config.redisPassword')} labelWidth={LABEL_WIDTH}>
          <SecretInput
            id="config-redis-password"
            aria-label={t('config.redisPassword') + ' Redis'}
            isConfigured={Boolean(secureJsonFields.redisPassword)}
            value={secureJsonData.redisPassword ?? ''}
            width={INPUT_WIDTH}
            onReset={onResetSecret('redisPassword')}
            onChange={onSecret('redisPassword')}
          />
        </InlineField>
        <InlineField label={t('config.redisMasterName')} labelWidth={LABEL_WIDTH}>
          <Input
            id="config-redis-master"
            aria-label={t('config.redisMasterName')}
            value={jsonData.redisMasterName ?? ''}
            placeholder="mymaster"
            width={INPUT_WIDTH}
            onChange={onString('redisMasterName')}
          />
        </InlineField>
        <InlineField label={t('config.redisSentinelPassword')} labelWidth={LABEL_WIDTH} disabled={!jsonData.redisMasterName}>
          <SecretInput
            id="config-redis-sentinel-password"
            aria-label={t('config.redisSentinelPassword')}
            isConfigured={Boolean(secureJsonFields.redisSentinelPassword)}
            value={secureJsonData.redisSentinelPassword ?? ''}
            width={INPUT_WIDTH}
            onReset={onResetSecret('redisSentinelPassword')}
            onChange={onSecret('redisSentinelPassword')}
          />
        </InlineField>
      </FieldSet>
      <FieldSet label={t('config.region')}>
        <InlineField label={t('config.regionCode')} labelWidth={LABEL_WIDTH} tooltip={t('config.regionCode.tooltip')}>
          <Input
            id="config-region"
            aria-label={t('config.regionCode')}
            value={jsonData.region ?? ''}
            placeholder={DEFAULT_REGION}
            width={INPUT_WIDTH}
            onChange={onString('region')}
          />
        </InlineField>
        <InlineField
          label={t('config.boundaryFile')}
          labelWidth={LABEL_WIDTH}
          tooltip={t('config.boundaryFile.tooltip')}
        >
          <Input
            id="config-boundary-file"
            aria-label={t('config.boundaryFile')}
            value={jsonData.boundaryFile ?? ''}
            placeholder="/var/lib/grafana/teplokarta/boundaries.geojson"
            width={INPUT_WIDTH}
            onChange={onString('boundaryFile')}
          />
        </InlineField>
      </FieldSet>
    </>
  );
}
