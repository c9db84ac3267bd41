import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';

import { VariableQueryEditor } from './VariableQueryEditor';
import { DataSource } from '../datasource';

describe('VariableQueryEditor', () => {
  const ds = {} as DataSource;

  it('lists the option resources and stores {resource}', async () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={ds} query={{ refId: 'v' }} onChange={onChange} onRunQuery={jest.fn()} />);
    const input = document.getElementById('variable-resource')!;
    fireEvent.focus(input);
    fireEvent.keyDown(input, { key: 'ArrowDown', keyCode: 40 });
    for (const label of ['Муниципалитеты', 'Категории', 'Темы', 'Ведомства', 'Источники', 'Статусы']) {
      expect(await screen.findByText(label)).toBeInTheDocument();
    }
    fireEvent.click(screen.getByText('Муниципалитеты'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'v', resource: 'municipalities' });
  });

  it('shows the selected resource', () => {
    render(
      <VariableQueryEditor
        datasource={ds}
        query={{ refId: 'v', resource: 'agencies' }}
        onChange={jest.fn()}
        onRunQuery={jest.fn()}
      />
    );
    expect(screen.getByText('Ведомства')).toBeInTheDocument();
  });
});
