import type { Schema } from './schema-types';

/** One way a value breaks the contract: where, what is wrong, and the limit. */
export interface ContractIssue {
  /** Dotted path of the offending field, e.g. `events[3].userProperties.email`. */
  field: string;
  /** What is wrong with the value, in words (never the value itself). */
  problem: string;
  /** The contract's limit that was broken, when there is one. */
  limit?: number | string;
}

const has = Object.prototype.hasOwnProperty;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function matchesType(type: Schema['type'], value: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === type;
  }
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
  if (value === null) {
    if (!schema.nullable) issues.push({ field, problem: 'must not be null' });
    return issues;
  }
  if (schema.anyOf) {
    const ok = schema.anyOf.some((s) => checkValue(s, value, field).length === 0);
    if (!ok) issues.push({ field, problem: 'matches none of the allowed shapes' });
    return issues;
  }
  if (!matchesType(schema.type, value)) {
    issues.push({ field, problem: `must be ${schema.type === 'integer' ? 'an integer' : `a ${schema.type}`}, got ${typeName(value)}` });
    return issues;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    issues.push({ field, problem: 'is not an allowed value', limit: schema.enum.join(', ') });
  }
  if (typeof value === 'string') checkString(schema, value, field, issues);
  else if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) {
    issues.push({ field, problem: `is below the minimum`, limit: schema.minimum });
  } else if (Array.isArray(value)) checkArray(schema, value, field, issues);
  else if (typeof value === 'object') checkObject(schema, value as Record<string, unknown>, field, issues);
  return issues;
}

function checkString(schema: Schema, value: string, field: string, issues: ContractIssue[]): void {
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    issues.push({ field, problem: value.length === 0 ? 'must not be empty' : 'is too short', limit: schema.minLength });
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    issues.push({ field, problem: `is ${value.length} characters, over the maximum`, limit: schema.maxLength });
  }
}

function checkArray(schema: Schema, value: unknown[], field: string, issues: ContractIssue[]): void {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    issues.push({ field, problem: `has ${value.length} items, under the minimum`, limit: schema.minItems });
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    issues.push({ field, problem: `has ${value.length} items, over the maximum`, limit: schema.maxItems });
  }
  if (schema.items) value.forEach((item, i) => checkValue(schema.items!, item, `${field}[${i}]`, issues));
}

function checkObject(schema: Schema, value: Record<string, unknown>, field: string, issues: ContractIssue[]): void {
  const prefix = field ? `${field}.` : '';
  for (const key of schema.required ?? []) {
    if (!has.call(value, key) || value[key] === undefined) issues.push({ field: prefix + key, problem: 'is required' });
  }
  for (const key of Object.keys(value)) {
    const sub = value[key];
    if (sub === undefined) continue;
    const propSchema = schema.properties && has.call(schema.properties, key) ? schema.properties[key] : schema.additionalProperties;
    if (!propSchema) issues.push({ field: prefix + key, problem: 'is not a field of the Ours API' });
    else checkValue(propSchema, sub, prefix + key, issues);
  }
}

/** `a.b is 2300 characters, over the maximum (limit 2000)`: one issue in words. */
export function describeIssue(issue: ContractIssue): string {
  const limit = issue.limit === undefined ? '' : ` (limit: ${issue.limit})`;
  return `${issue.field || 'body'} ${issue.problem}${limit}`;
}
