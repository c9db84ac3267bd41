import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { AppealsDataSourceOptions, AppealsQuery } from './types';

export const plugin = new DataSourcePlugin<DataSource, AppealsQuery, AppealsDataSourceOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
