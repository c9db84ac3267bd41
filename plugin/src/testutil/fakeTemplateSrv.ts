import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

/** Minimal model of a dashboard variable for the fake. */
export interface FakeVariable {
  name: string;
  label?: string;
  /** current value: a string, an array (multi-value) or '$__all' / ['$__all'] for "All" */
  value: string | string[];
  /** all option values, used when "All" is selected (as Grafana does without a custom allValue) */
  options?: string[];
}

const REF = /\$(\w+)|\$\{(\w+)(?::([^}]*))?\}|\[\[(\w+)(?::([^\]]*))?\]\]/g;

/**
 * A TemplateSrv that behaves like Grafana's for the parts the data source uses: `replace` with the `json`
 * format (JSON.stringify of the value; "All" expands to every option), default format (multi-value as
 * `{a,b}`), scopedVars override dashboard values, unknown variables are left as typed.
 */
export function fakeTemplateSrv(vars: FakeVariable[]): TemplateSrv & { replace: jest.Mock } {
  const byName = new Map(vars.map((v) => [v.name, v]));
  const valueOf = (name: string, scopedVars?: ScopedVars): unknown => {
    const scoped = scopedVars?.[name];
    if (scoped !== undefined) {
      return scoped.value;
    }
    const v = byName.get(name);
    if (!v) {
      return undefined;
    }
    const isAll = v.value === '$__all' || (Array.isArray(v.value) && v.value.includes('$__all'));
    return isAll ? (v.options ?? []) : v.value;
  };
  const replace = jest.fn((target?: string, scopedVars?: ScopedVars, format?: string | Function): string => {
    if (!target) {
      return target ?? '';
    }
    return target.replace(REF, (match, n1, n2, f2, n3, f3) => {
      const name = n1 ?? n2 ?? n3;
      const value = valueOf(name, scopedVars);
      if (value === undefined) {
        return match;
      }
      const fmt = format ?? f2 ?? f3;
      if (fmt === 'json') {
        return JSON.stringify(value);
      }
      if (Array.isArray(value)) {
        return value.length > 1 ? `{${value.join(',')}}` : String(value[0] ?? '');
      }
      return String(value);
    });
  });
  return {
    replace,
    getVariables: () =>
      vars.map(
        (v) =>
          ({
            name: v.name,
            label: v.label,
            current: { value: v.value, text: v.value },
          }) as unknown as TypedVariableModel
      ),
    containsTemplate: (target?: string) => {
      if (!target) {
        return false;
      }
      return Array.from(target.matchAll(REF)).some((m) => byName.has(m[1] ?? m[2] ?? m[4]));
    },
    updateTimeRange: jest.fn(),
  } as unknown as TemplateSrv & { replace: jest.Mock };
}
