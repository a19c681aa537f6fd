/**
 * A small interpreter for the subset of JSON Schema that `schema.ts` uses. Pure: it returns
 * every issue it finds and never stops at the first.
 */
import type { JsonType, Schema } from './schema.js';
import { didYouMean } from './did-you-mean.js';
import { quote } from './quote.js';

export type KeyPath = (string | number)[];

export interface SchemaIssue {
  path: KeyPath;
  /** Whether the problem is the key itself (unknown or badly named) or its value. */
  at: 'key' | 'value';
  message: string;
}

export function jsonTypeOf(value: unknown): JsonType | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'bigint':
      return 'integer';
    case 'object':
      return 'object';
    default:
      return 'other';
  }
}

const typeWords: Record<JsonType, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

function typeMatches(actual: JsonType | 'other', wanted: JsonType): boolean {
  return actual === wanted || (wanted === 'number' && actual === 'integer');
}

function describe(value: unknown): string {
  const t = jsonTypeOf(value);
  if (t === 'string') return `the string ${quote(value as string)}`;
  if (t === 'other') return 'an unsupported value';
  if (t === 'null') return 'nothing';
  if (t === 'object' || t === 'array') return typeWords[t];
  return String(value);
}

export function checkSchema(value: unknown, schema: Schema, path: KeyPath = []): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const fail = (message: string, at: 'key' | 'value' = 'value', p: KeyPath = path) =>
    issues.push({ path: p, at, message });

  const actual = jsonTypeOf(value);
  if (schema.type !== undefined) {
    const wanted = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!wanted.some((w) => typeMatches(actual, w))) {
      const words = wanted.filter((w) => w !== 'null').map((w) => typeWords[w]);
      fail(`expected ${words.join(' or ')}, found ${describe(value)}`);
      return issues;
    }
  }
  if (schema.enum !== undefined && !schema.enum.includes(value as string | number)) {
    const hint = typeof value === 'string' ? didYouMean(value, schema.enum.map(String)) : '';
    fail(`must be one of ${schema.enum.join(', ')}, found ${describe(value)}${hint}`);
    return issues;
  }
  if (typeof value === 'string') issues.push(...checkString(value, schema, path));
  if ((typeof value === 'number' || typeof value === 'bigint') && schema.minimum !== undefined && value < schema.minimum) {
    fail(`must be at least ${schema.minimum}, found ${value}`);
  }
  if ((typeof value === 'number' || typeof value === 'bigint') && schema.maximum !== undefined && value > schema.maximum) {
    fail(`must be at most ${schema.maximum}, found ${value}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      fail(`needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
    }
    if (schema.items) value.forEach((item, i) => issues.push(...checkSchema(item, schema.items!, [...path, i])));
  }
  if (actual === 'object') issues.push(...checkObject(value as Record<string, unknown>, schema, path));
  return issues;
}

function checkString(value: string, schema: Schema, path: KeyPath): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    issues.push({ path, at: 'value', message: 'must not be empty' });
  } else if (schema.maxLength !== undefined && length > schema.maxLength) {
    issues.push({ path, at: 'value', message: `is ${length} characters long; at most ${schema.maxLength} are allowed` });
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
    issues.push({ path, at: 'value', message: schema.errorMessage ?? `must match ${schema.pattern}` });
  }
  return issues;
}

function checkObject(value: Record<string, unknown>, schema: Schema, path: KeyPath): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const keys = Object.keys(value);
  for (const required of schema.required ?? []) {
    if (!(required in value)) issues.push({ path, at: 'value', message: `missing required key "${required}"` });
  }
  if (schema.minProperties !== undefined && keys.length < schema.minProperties) {
    issues.push({ path, at: 'value', message: `needs at least ${schema.minProperties} entr${schema.minProperties === 1 ? 'y' : 'ies'}` });
  }
  const known = Object.keys(schema.properties ?? {});
  for (const key of keys) {
    const keyPath = [...path, key];
    if (schema.propertyNames) {
      for (const issue of checkSchema(key, schema.propertyNames, keyPath)) issues.push({ ...issue, at: 'key' });
    }
    const property = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
    if (property) {
      issues.push(...checkSchema(value[key], property, keyPath));
    } else if (schema.additionalProperties === false) {
      issues.push({ path: keyPath, at: 'key', message: `unknown key ${quote(key)}${didYouMean(key, known)}` });
    } else if (typeof schema.additionalProperties === 'object') {
      issues.push(...checkSchema(value[key], schema.additionalProperties, keyPath));
    }
  }
  return issues;
}
