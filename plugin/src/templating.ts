import { ScopedVars } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { FILTER_KEYS, Filters } from './types';

/** Grafana's value for the "All" option of a multi-value variable. */
export const ALL_VALUE = '$__all';

/** `$name`, `${name}`, `${name:format}`, `[[name]]` or `[[name:format]]` as the whole string → the variable name. */
const SINGLE_REF = /^\s*(?:\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\])\s*$/;

export function variableName(value: string): string | undefined {
  const m = SINGLE_REF.exec(value);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function isAllValue(v: unknown): boolean {
  if (Array.isArray(v)) {
    return v.includes(ALL_VALUE);
  }
  return v === ALL_VALUE;
}

/** True when the variable `name` is currently set to "All" (scoped value first, then the dashboard variable). */
export function isAllSelected(name: string, scopedVars: ScopedVars | undefined, templateSrv: TemplateSrv): boolean {
  const scoped = scopedVars?.[name];
  if (scoped !== undefined) {
    return isAllValue(scoped.value);
  }
  const variable = templateSrv.getVariables().find((v) => v.name === name) as
    { current?: { value?: unknown } } | undefined;
  return isAllValue(variable?.current?.value);
}

function pushValue(out: string[], v: unknown) {
  if (v === null || v === undefined) {
    return;
  }
  const s = String(v);
  if (s !== '' && !out.includes(s)) {
    out.push(s);
  }
}

/**
 * Expands one filter array: every element may be a literal or a variable reference ("$municipality");
 * multi-value variables become several elements, "All" drops the whole filter (returns []).
 */
export function expandValues(
  values: string[] | undefined,
  scopedVars: ScopedVars | undefined,
  templateSrv: TemplateSrv
): string[] {
  const out: string[] = [];
  for (const raw of values ?? []) {
    if (raw === null || raw === undefined) {
      continue;
    }
    const value = String(raw);
    if (value.trim() === ALL_VALUE) {
      return [];
    }
    if (!templateSrv.containsTemplate(value)) {
      pushValue(out, value);
      continue;
    }
    const name = variableName(value);
    if (name === undefined) {
      // text mixed with variables ("prefix-$var"): plain interpolation, one element
      pushValue(out, templateSrv.replace(value, scopedVars));
      continue;
    }
    if (isAllSelected(name, scopedVars, templateSrv)) {
      return [];
    }
    const replaced = templateSrv.replace(`\${${name}}`, scopedVars, 'json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(replaced);
    } catch {
      // not a known variable (the reference stays as typed) or a formatter we do not understand
      pushValue(out, replaced === `\${${name}}` ? value : replaced);
      continue;
    }
    if (Array.isArray(parsed)) {
      if (parsed.includes(ALL_VALUE)) {
        return [];
      }
      parsed.forEach((p) => pushValue(out, p));
    } else if (parsed === ALL_VALUE) {
      return [];
    } else {
      pushValue(out, parsed);
    }
  }
  return out;
}

/** Expands every filter of a query; absent filters stay absent, "All" becomes []. */
export function expandFilters(
  filters: Filters | undefined,
  scopedVars: ScopedVars | undefined,
  templateSrv: TemplateSrv
): Filters {
  const out: Filters = {};
  for (const key of FILTER_KEYS) {
    const values = filters?.[key];
    if (values !== undefined) {
      out[key] = expandValues(Array.isArray(values) ? values : [String(values)], scopedVars, templateSrv);
    }
  }
  return out;
}

/** True when any filter element references a template variable. */
export function filtersHaveVariables(filters: Filters | undefined, templateSrv: TemplateSrv): boolean {
  return FILTER_KEYS.some((k) => (filters?.[k] ?? []).some((v) => templateSrv.containsTemplate(String(v))));
}
