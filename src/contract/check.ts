import type { Schema } from './schema-types';

/** One way a value breaks the contract: where, what is wrong, and the limit. */
export interface ContractIssue {
  /** Dotted path of the offending field, e.g. `events[3].userProperties.email`. */
  field: string;
  /** What is wrong with the value, in words (never the value itself). */
  problem: string;
  /** The contract's limit that was broken, when there is one. */
  limit?: number | string | undefined;
}

const has = Object.prototype.hasOwnProperty;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function typeMatcher(type: Schema['type']): (value: unknown) => boolean {
  switch (type) {
    case undefined:
      return () => true;
    case 'integer':
      return (value) => Number.isInteger(value);
    case 'number':
      return (value) => typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return (value) => Array.isArray(value);
    default:
      return (value) => typeof value === type;
  }
}

/**
 * A schema compiled into a closure. `parent` and `key` name the field the way
 * {@link checkValue} would (`parent.key`, `parent[key]` for an index, or
 * `parent` alone when `key` is undefined), but the name is only built when an
 * issue is found: on valid input, checking allocates nothing.
 */
export type CompiledCheck = (
  value: unknown,
  parent: string,
  key: string | number | undefined,
  issues: ContractIssue[],
) => void;

const compiled = new WeakMap<Schema, CompiledCheck>();

function fieldOf(parent: string, key: string | number | undefined): string {
  if (key === undefined) return parent;
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/**
 * The check for `schema`, compiled once and cached per schema object. Same
 * issues, in the same order, as {@link checkValue}; generated schemas are
 * constants, so the cache never goes stale.
 */
export function compileSchema(schema: Schema): CompiledCheck {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = build(schema);
    compiled.set(schema, check);
  }
  return check;
}

/**
 * Checks `value` against `schema` and appends every issue found to `issues`.
 * Unknown object keys are issues too (the contract's objects list every field
 * Ours reads; an unlisted key is almost always a typo that loses data).
 * Returns `issues` for chaining.
 */
export function checkValue(
  schema: Schema,
  value: unknown,
  field: string,
  issues: ContractIssue[] = [],
): ContractIssue[] {
  compileSchema(schema)(value, field, undefined, issues);
  return issues;
}

function build(schema: Schema): CompiledCheck {
  const nullable = Boolean(schema.nullable);
  if (schema.anyOf) {
    const shapes = schema.anyOf.map(compileSchema);
    return (value, parent, key, issues) => {
      if (value === null) {
        if (!nullable) issues.push({ field: fieldOf(parent, key), problem: 'must not be null' });
        return;
      }
      const ok = shapes.some((shape) => {
        const found: ContractIssue[] = [];
        shape(value, parent, key, found);
        return found.length === 0;
      });
      if (!ok)
        issues.push({ field: fieldOf(parent, key), problem: 'matches none of the allowed shapes' });
    };
  }
  const type = schema.type;
  const matches = typeMatcher(type);
  const expected = `must be ${type === 'integer' ? 'an integer' : `a ${type}`}, got `;
  const allowed = schema.enum;
  const { minLength, maxLength, minimum } = schema;
  const array = arrayCheck(schema);
  const object = objectCheck(schema);
  return (value, parent, key, issues) => {
    if (value === null) {
      if (!nullable) issues.push({ field: fieldOf(parent, key), problem: 'must not be null' });
      return;
    }
    if (!matches(value)) {
      issues.push({ field: fieldOf(parent, key), problem: expected + typeName(value) });
      return;
    }
    if (allowed && !allowed.includes(value)) {
      issues.push({
        field: fieldOf(parent, key),
        problem: 'is not an allowed value',
        limit: allowed.join(', '),
      });
    }
    if (typeof value === 'string') {
      const length = stringLength(value, minLength, maxLength);
      if (minLength !== undefined && length < minLength) {
        issues.push({
          field: fieldOf(parent, key),
          problem: length === 0 ? 'must not be empty' : 'is too short',
          limit: minLength,
        });
      }
      if (maxLength !== undefined && length > maxLength) {
        issues.push({
          field: fieldOf(parent, key),
          problem: `is ${length} characters, over the maximum`,
          limit: maxLength,
        });
      }
    } else if (typeof value === 'number' && minimum !== undefined && value < minimum) {
      issues.push({ field: fieldOf(parent, key), problem: `is below the minimum`, limit: minimum });
    } else if (Array.isArray(value)) array(value, fieldOf(parent, key), issues);
    else if (typeof value === 'object')
      object(value as Record<string, unknown>, fieldOf(parent, key), issues);
  };
}

/**
 * A string's length as JSON Schema counts it: in code points, so an emoji
 * (two UTF-16 units) is one character. Counted only when the UTF-16 length,
 * which is at most twice that, could be on the wrong side of a limit.
 */
function stringLength(value: string, min: number | undefined, max: number | undefined): number {
  const units = value.length;
  if ((max === undefined || units <= max) && (min === undefined || units >= 2 * min)) return units;
  let points = units;
  for (let i = 0; i < units - 1; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        points--;
        i++;
      }
    }
  }
  return points;
}

function arrayCheck(
  schema: Schema,
): (value: unknown[], field: string, issues: ContractIssue[]) => void {
  const { minItems, maxItems } = schema;
  let items: CompiledCheck | undefined;
  return (value, field, issues) => {
    if (minItems !== undefined && value.length < minItems) {
      issues.push({
        field,
        problem: `has ${value.length} items, under the minimum`,
        limit: minItems,
      });
    }
    if (maxItems !== undefined && value.length > maxItems) {
      issues.push({
        field,
        problem: `has ${value.length} items, over the maximum`,
        limit: maxItems,
      });
    }
    if (schema.items) {
      const check = (items ??= compileSchema(schema.items));
      value.forEach((item, i) => check(item, field, i, issues));
    }
  };
}

function objectCheck(
  schema: Schema,
): (value: Record<string, unknown>, field: string, issues: ContractIssue[]) => void {
  const required = schema.required ?? [];
  // Compiled on first use: a schema may only be reached through rare shapes.
  let properties: Map<string, CompiledCheck> | undefined;
  let additional: CompiledCheck | undefined;
  return (value, field, issues) => {
    if (properties === undefined) {
      properties = new Map();
      for (const key of Object.keys(schema.properties ?? {}))
        properties.set(key, compileSchema(schema.properties![key]!));
      if (schema.additionalProperties) additional = compileSchema(schema.additionalProperties);
    }
    for (let i = 0; i < required.length; i++) {
      const key = required[i]!;
      if (!has.call(value, key) || value[key] === undefined)
        issues.push({ field: fieldOf(field, key), problem: 'is required' });
    }
    for (const key in value) {
      if (!has.call(value, key)) continue;
      const sub = value[key];
      if (sub === undefined) continue;
      const check = properties.get(key) ?? additional;
      if (!check)
        issues.push({ field: fieldOf(field, key), problem: 'is not a field of the Ours API' });
      else check(sub, field, key, issues);
    }
  };
}

/** `a.b is 2300 characters, over the maximum (limit 2000)`: one issue in words. */
export function describeIssue(issue: ContractIssue): string {
  const limit = issue.limit === undefined ? '' : ` (limit: ${issue.limit})`;
  return `${issue.field || 'body'} ${issue.problem}${limit}`;
}
