import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { from, map, Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { VariableQuery } from './types';

/** Dashboard variables backed by the option-list resources (see DataSource.metricFindQuery). */
export class AppealsVariableSupport extends CustomVariableSupport<DataSource, VariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<VariableQuery>): Observable<DataQueryResponse> {
    const [query] = request.targets;
    return from(this.datasource.metricFindQuery(query ?? { refId: 'variable' })).pipe(map((data) => ({ data })));
  }
}
