/**
 * Edits of the inventory's `users:` mapping that leave every other byte of the file alone:
 * comments, key order, quoting, blank lines and flow maps elsewhere. Pure: text in, text out.
 *
 * yaml's `Document.toString()` re-formats the whole file (it pads flow maps to `{ a: b }`, moves
 * a comment after `users:` onto its own line, drops blank lines, ...), so it is not used. Instead
 * the file is parsed only to find the source ranges of the nodes, and each edit is a small splice
 * of the original text: one line inserted, one value replaced or one entry deleted. The result is
 * parsed again and compared with the intended change before it is returned, so an edit that the
 * splicing rules get wrong is refused instead of written.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isNode, isScalar, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import { UserError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';

/** Add `user: group` at the end of `users:`, or change an existing user's group in place. */
export function setUserGroup(text: string, user: string, group: string): string {
  const source = parseInventory(text);
  const { root, users } = source;
  const key = formatScalar(user, 'key');
  const value = formatScalar(group, 'value');
  const before = userEntries(users?.value);
  const splices: Splice[] = [];
  const index = users && isMap(users.value) ? findPairIndex(users.value, user) : -1;

  if (!users) {
    // No `users:` at all: a new block mapping after the last top-level entry.
    const indent = indentOf(text, root.range![0]);
    const step = ' '.repeat(childIndentStep(text, root));
    splices.push(insertLineAfter(text, pairEnd(root.items.at(-1)!), `${indent}users:${eolOf(text)}${indent}${step}${key}: ${value}`));
  } else if (isMap(users.value) && users.value.items.length > 0 && index >= 0) {
    // An existing user: only the value's text changes.
    const pair = users.value.items[index]!;
    const node = pair.value;
    if (isScalar(node) && node.value === group) return text; // already there: keep its quoting
    if (isNode(node) && node.range && node.range[1] > node.range[0]) {
      splices.push({ at: node.range[0], end: node.range[1], text: value });
    } else {
      const keyEnd = nodeRange(pair.key)[1];
      const colon = findColon(text, keyEnd);
      splices.push(colon >= 0 ? { at: colon + 1, end: colon + 1, text: ` ${value}` } : { at: keyEnd, end: keyEnd, text: `: ${value}` });
    }
  } else if (isMap(users.value) && users.value.items.length > 0) {
    const map = users.value;
    const last = map.items.at(-1)!;
    if (map.flow) {
      splices.push({ at: pairEnd(last), end: pairEnd(last), text: `, ${key}: ${value}` });
    } else {
      splices.push(insertLineAfter(text, pairEnd(last), `${indentOf(text, map.range![0])}${key}: ${value}`));
    }
  } else if (isEmptyValue(users.value)) {
    // `users:`, `users: ~`, `users: null` or `users: {}`: becomes a block mapping.
    const usersKeyStart = nodeRange(users.key)[0];
    const indent = indentOf(text, usersKeyStart);
    const step = ' '.repeat(childIndentStep(text, root));
    const colon = findColon(text, nodeRange(users.key)[1]);
    let lineOf = colon >= 0 ? colon : nodeRange(users.key)[1];
    const node = users.value;
    if (isNode(node) && node.range && node.range[1] > node.range[0]) {
      splices.push(blankOut(text, node.range[0], node.range[1]));
      lineOf = node.range[1];
    }
    splices.push(insertLineAfter(text, lineOf, `${indent}${step}${key}: ${value}`));
  } else {
    throw notAMapping();
  }

  const result = applySplices(text, splices);
  const expected = index >= 0 ? before.map((entry, i) => (i === index ? [entry[0], group] : entry)) : [...before, [user, group]];
  verify(source, result, expected);
  return result;
}

/** Remove the user's entry (its line, in block style); an emptied `users:` becomes `users: {}`. */
export function removeUser(text: string, user: string): string {
  const source = parseInventory(text);
  const { users } = source;
  const before = userEntries(users?.value);
  const map = users && isMap(users.value) ? users.value : undefined;
  if (users && !map && !isEmptyValue(users.value)) throw notAMapping();
  const index = map ? findPairIndex(map, user) : -1;
  if (!map || index < 0) {
    const names = before.map(([name]) => String(name));
    throw new UserError(
      `user ${JSON.stringify(user)} is not in the inventory${didYouMean(user, names)}`,
      'check the name against the users: mapping of the inventory',
    );
  }
  const pair = map.items[index]!;
  const splices: Splice[] = [];
  if (map.flow) {
    if (map.items.length === 1) {
      splices.push({ at: map.range![0], end: map.range![1], text: '{}' });
    } else if (index < map.items.length - 1) {
      splices.push({ at: pairStart(pair), end: pairStart(map.items[index + 1]!), text: '' });
    } else {
      splices.push({ at: pairEnd(map.items[index - 1]!), end: pairEnd(pair), text: '' });
    }
  } else {
    const keyStart = pairStart(pair);
    const lineStart = startOfLine(text, keyStart);
    if (!/^[ ]*$/.test(text.slice(lineStart, keyStart))) {
      throw new UserError(
        `the entry of user ${JSON.stringify(user)} is written in a YAML form plexctl cannot remove safely`,
        'remove its line from the users: mapping by hand',
      );
    }
    splices.push(deleteLines(text, lineStart, pairEnd(pair)));
    if (map.items.length === 1) splices.push(emptyMapAfterColon(text, findColon(text, nodeRange(users!.key)[1])));
  }
  const result = applySplices(text, splices);
  verify(
    source,
    result,
    before.filter((_, i) => i !== index),
  );
  return result;
}

// --- parsing and checking -------------------------------------------------------------------

const parseOptions = { schema: 'core', uniqueKeys: true, prettyErrors: false } as const;

interface Source {
  doc: Document;
  root: YAMLMap;
  users: Pair | undefined;
}

function parseInventory(text: string): Source {
  const doc = parseDocument(text, parseOptions);
  if (doc.errors.length > 0) {
    throw new UserError(
      `the inventory is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); it was not changed`,
      'run `plexctl validate` and fix the inventory first',
    );
  }
  const root = doc.contents;
  if (!isMap(root) || root.flow || root.items.length === 0 || !root.range) {
    throw new UserError(
      'the inventory\'s top level is not a block mapping (site:, apache:, groups:, ...); it was not changed',
      'run `plexctl validate` and fix the inventory first',
    );
  }
  const users = root.items.find((pair) => isScalar(pair.key) && pair.key.value === 'users');
  return { doc, root, users };
}

function notAMapping(): UserError {
  return new UserError('users: in the inventory is not a mapping of user -> group; it was not changed', 'run `plexctl validate` and fix the inventory first');
}

function isEmptyValue(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  if (isScalar(node)) return node.value === null;
  return isMap(node) && node.flow === true && node.items.length === 0;
}

/** The users mapping as [key, value] pairs in file order (keys as YAML read them, not stringified). */
function userEntries(node: unknown): unknown[][] {
  if (!isMap(node)) return [];
  return node.items.map((pair) => [isScalar(pair.key) ? pair.key.value : pair.key, isNode(pair.value) ? pair.value.toJSON() : pair.value]);
}

/** The key a user is listed under, as the validator sees it (a YAML key `123` is user "123"). */
function findPairIndex(map: YAMLMap, user: string): number {
  return map.items.findIndex((pair) => isScalar(pair.key) && pair.key.value !== null && String(pair.key.value) === user);
}

/**
 * Refuse a result that does not say exactly what was meant: it must parse, every top-level key
 * other than users must read as before, and users must hold exactly the expected entries.
 */
function verify(source: Source, result: string, expected: unknown[][]): void {
  const doc = parseDocument(result, parseOptions);
  const root = doc.contents;
  const users = isMap(root) ? root.items.find((pair) => isScalar(pair.key) && pair.key.value === 'users') : undefined;
  const ok =
    doc.errors.length === 0 &&
    isMap(root) &&
    isDeepStrictEqual(withoutUsers(doc), withoutUsers(source.doc)) &&
    isDeepStrictEqual(userEntries(users?.value), expected) &&
    (isMap(users?.value) || expected.length === 0);
  if (!ok) {
    throw new UserError(
      'plexctl could not make this change to the inventory\'s users: mapping without disturbing the rest of the file; it was not changed',
      'make the change in the inventory by hand',
    );
  }
}

function withoutUsers(doc: Document): unknown {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return Symbol('unreadable'); // never equal to anything
  }
  if (data === null || typeof data !== 'object') return data;
  const rest: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  delete rest.users;
  return rest;
}

// --- text positions -------------------------------------------------------------------------

type Range = [number, number, number];

function nodeRange(node: unknown): Range {
  if (isNode(node) && node.range) return node.range;
  throw new UserError('the inventory\'s users: mapping has an entry plexctl cannot locate; it was not changed', 'make the change by hand');
}

function pairStart(pair: Pair): number {
  return nodeRange(pair.key)[0];
}

/** Where the pair's content ends (before any trailing comment). */
function pairEnd(pair: Pair): number {
  const keyEnd = nodeRange(pair.key)[1];
  return isNode(pair.value) && pair.value.range ? Math.max(keyEnd, pair.value.range[1]) : keyEnd;
}

function startOfLine(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The offset just past the newline that ends the line holding offset-1 (text.length if none). */
function endOfLine(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline < 0 ? text.length : newline + 1;
}

function indentOf(text: string, offset: number): string {
  const prefix = text.slice(startOfLine(text, offset), offset);
  if (!/^[ ]*$/.test(prefix)) {
    throw new UserError('the inventory is laid out in a YAML form plexctl cannot edit safely; it was not changed', 'make the change by hand');
  }
  return prefix;
}

/** The indentation step the file uses for nested block mappings (2 when it has none). */
function childIndentStep(text: string, root: YAMLMap): number {
  const rootColumn = indentOf(text, root.range![0]).length;
  for (const pair of root.items) {
    const value = pair.value;
    if (isMap(value) && !value.flow && value.range) {
      const column = value.range[0] - startOfLine(text, value.range[0]);
      if (column > rootColumn) return column - rootColumn;
    }
  }
  return 2;
}

/** The `:` after a key (skipping blanks, and line breaks for an explicit `? key`), or -1. */
function findColon(text: string, keyEnd: number): number {
  let i = keyEnd;
  while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  return text[i] === ':' ? i : -1;
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

// --- splices --------------------------------------------------------------------------------

interface Splice {
  at: number;
  end: number;
  text: string;
}

function applySplices(text: string, splices: Splice[]): string {
  const sorted = [...splices].sort((a, b) => a.at - b.at || a.end - b.end);
  let out = '';
  let position = 0;
  for (const splice of sorted) {
    if (splice.at < position || splice.end < splice.at) throw new Error('internal error: overlapping inventory edits');
    out += text.slice(position, splice.at) + splice.text;
    position = splice.end;
  }
  return out + text.slice(position);
}

/** A new line after the line that holds offset-1, even when the file does not end in a newline. */
function insertLineAfter(text: string, offset: number, line: string): Splice {
  const at = endOfLine(text, offset);
  const eol = eolOf(text);
  if (at === text.length && !text.endsWith('\n')) return { at, end: at, text: `${eol}${line}` };
  return { at, end: at, text: `${line}${eol}` };
}

/** Delete the whole lines from lineStart through the line holding end-1 (with their newline). */
function deleteLines(text: string, lineStart: number, end: number): Splice {
  const lineEnd = endOfLine(text, end);
  if (lineEnd === text.length && !text.endsWith('\n') && lineStart > 0) {
    // The last line has no newline: take the one before it instead, so none is left dangling.
    let at = lineStart - 1;
    if (at > 0 && text[at - 1] === '\r') at--;
    return { at, end: lineEnd, text: '' };
  }
  return { at: lineStart, end: lineEnd, text: '' };
}

/**
 * Remove a value token (`~`, `null`, `{}`) and the blanks before it. A comment after it keeps its
 * column (the token becomes spaces), so that `emptyMapAfterColon` can restore the line exactly.
 */
function blankOut(text: string, start: number, end: number): Splice {
  let at = start;
  while (at > 0 && (text[at - 1] === ' ' || text[at - 1] === '\t')) at--;
  const commentFollows = /^[ \t]+#/.test(text.slice(end, end + 200));
  return { at, end, text: commentFollows ? ' '.repeat(end - at) : '' };
}

/** Write `{}` after `users:`, taking the place of padding before a trailing comment when there is room. */
function emptyMapAfterColon(text: string, colon: number): Splice {
  if (colon < 0) throw new Error('internal error: no colon after users');
  const after = colon + 1;
  const padding = /^[ \t]*/.exec(text.slice(after, after + 500))![0].length;
  if (padding >= 4 && text[after + padding] === '#') return { at: after, end: after + 3, text: ' {}' };
  return { at: after, end: after, text: ' {}' };
}

// --- scalars --------------------------------------------------------------------------------

/** Characters a plain (unquoted) key or value may have: letters, digits and a few safe marks. */
const plainPattern = /^[\p{L}\p{N}_][\p{L}\p{M}\p{N}_.@+\-/~]*$/u;

/**
 * The YAML text of a string key or value that reads back as exactly that string: plain when it
 * is unambiguous (also to a YAML 1.1 reader, where `yes` and `on` are booleans), else double-quoted.
 */
function formatScalar(value: string, role: 'key' | 'value'): string {
  if (plainPattern.test(value) && readsBack(value, value, role)) return value;
  const quoted = doubleQuoted(value);
  if (readsBack(quoted, value, role)) return quoted;
  throw new UserError(`${JSON.stringify(value)} cannot be written as a YAML ${role} that reads back unchanged`);
}

function readsBack(source: string, expected: string, role: 'key' | 'value'): boolean {
  const texts = role === 'key' ? [`${source}: x\n`, `{${source}: x}\n`] : [`x: ${source}\n`, `{x: ${source}}\n`];
  for (const schema of ['core', 'yaml-1.1'] as const) {
    for (const yamlText of texts) {
      const doc = parseDocument(yamlText, { schema, uniqueKeys: true });
      if (doc.errors.length > 0 || doc.warnings.length > 0 || !isMap(doc.contents) || doc.contents.items.length !== 1) return false;
      const node = role === 'key' ? doc.contents.items[0]!.key : doc.contents.items[0]!.value;
      if (!isScalar(node) || node.value !== expected) return false;
    }
  }
  return true;
}

const shortEscapes: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function doubleQuoted(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char in shortEscapes) out += shortEscapes[char];
    else if (isSafePrintable(code)) out += char;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return `${out}"`;
}

/** YAML's printable set, less the line separators and the BOM, which some readers treat specially. */
function isSafePrintable(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code === 0x2028 || code === 0x2029 || code === 0xfeff) return false;
  return (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, '0');
}
