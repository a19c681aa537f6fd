/** YAML text -> document, plain data and located syntax problems. Pure. */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { Problem } from '../errors.js';
import type { KeyPath } from './check-schema.js';
import { formatKeyPath, pathAtOffset } from './locate.js';
import { quote } from './quote.js';

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
  /** The plain data, or undefined when the YAML could not be trusted. */
  data: unknown;
  problems: Problem[];
}

/** Aliases expanded beyond this many are refused (a "billion laughs" document). */
const maxAliasCount = 100;

export function parseYaml(file: string, text: string): ParsedYaml {
  const lines = new LineCounter();
  // yaml's own duplicate-key check compares every key with every earlier one (quadratic: minutes
  // at 100k users); duplicateKeys() below does the same in one pass.
  const doc = parseDocument(text, { lineCounter: lines, schema: 'core', uniqueKeys: false, prettyErrors: false, intAsBigInt: true });
  const problems: Problem[] = [];
  let fatal = false;
  for (const error of [...doc.errors, ...doc.warnings]) {
    // After an empty value the parser points at the end of the previous line: move to the next token.
    let offset = error.pos[0];
    if (error.code === 'DUPLICATE_KEY') while (/\s/.test(text[offset] ?? '')) offset++;
    const { line, col } = lines.linePos(offset);
    const path = pathAtOffset(doc, offset);
    let message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    if (error.code === 'DUPLICATE_KEY') {
      const key = duplicateKeyText(text.slice(offset));
      message = `duplicate key ${/^["']/.test(key) ? key : `"${key}"`}: each key may appear once`;
    } else {
      fatal = true;
      message = `YAML: ${message}`;
    }
    problems.push({ file, line, col, path: formatKeyPath(path), message });
  }
  if (fatal) return { doc, lines, data: undefined, problems };
  for (const { path, key, offset } of duplicateKeys(doc)) {
    problems.push({ file, ...lines.linePos(offset), path: formatKeyPath(path), message: `duplicate key ${quote(key)}: each key may appear once` });
  }
  try {
    return { doc, lines, data: withSourceKeys(doc, doc.toJS({ maxAliasCount })), problems };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push({ file, line: 1, col: 1, path: '(document)', message: `YAML: ${reason}` });
    return { doc, lines, data: undefined, problems };
  }
}

/** Keys that appear twice in one mapping (compared as plain scalars, as YAML does), in one pass. */
function duplicateKeys(doc: Document): { path: KeyPath; key: string; offset: number }[] {
  const found: { path: KeyPath; key: string; offset: number }[] = [];
  const walk = (node: unknown, path: KeyPath): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        const id = isScalar(key) ? key.value : key;
        const text = keyText(key, doc);
        if (isScalar(key) && seen.has(id)) found.push({ path: [...path, text], key: text, offset: key.range?.[0] ?? 0 });
        seen.add(id);
        walk(pair.value, [...path, text]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return found;
}

/**
 * A user named `1e3` or `0x1F` is a YAML number: keep the name as written, not as the number
 * JavaScript would print.
 */
function withSourceKeys(doc: Document, data: unknown): unknown {
  const users = doc.get('users', true);
  if (!isMap(users) || data === null || typeof data !== 'object' || !('users' in data)) return data;
  const named = Object.fromEntries(users.items.map((pair) => [keyText(pair.key, doc), plainValue(doc, pair.value)]));
  return { ...data, users: named };
}

/** A scalar's value; a mapping or list as an empty one (enough for the schema to refuse it). */
function plainValue(doc: Document, node: unknown): unknown {
  const resolved = isAlias(node) ? node.resolve(doc) : node;
  if (isScalar(resolved)) return resolved.value;
  if (isMap(resolved)) return {};
  if (isSeq(resolved)) return [];
  return null;
}

/**
 * The text of a mapping key: its string value, or for a number (or other scalar) its source; an
 * alias stands for the key it names. (A list or mapping key is refused by a rule.)
 */
export function keyText(key: unknown, doc?: Document): string {
  const resolved = doc && isAlias(key) ? key.resolve(doc) : key;
  if (isScalar(resolved)) return typeof resolved.value === 'string' ? resolved.value : (resolved.source ?? String(resolved.value));
  return String(resolved);
}

/** The key at the start of `rest`: a quoted scalar, or plain text up to ": ". */
function duplicateKeyText(rest: string): string {
  const match = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\n]*?)\s*:(?:\s|$)/.exec(rest);
  return match ? match[1]! : rest.split('\n')[0]!;
}
