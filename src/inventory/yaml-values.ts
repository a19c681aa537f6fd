/**
 * Values read straight from the YAML document where plain JS objects would lose something:
 * integer keys of settings mappings (Django's MESSAGE_TAGS), the text of numeric env values
 * (3.10 is not "3.1"), and the order of numeric user names.
 */
import { isAlias, isMap, isScalar, type Document, type Pair } from 'yaml';
import { keyText } from './parse.js';
import type { SettingValue, UserMapping } from './types.js';

const maxAliasCount = 100;

const deref = (doc: Document, node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

/** Each mapping's values by key text, built once: a find() per lookup is quadratic in groups. */
const indexes = new WeakMap<object, Map<string, unknown>>();

function valueAt(doc: Document, map: object & { items: Pair[] }, key: string): unknown {
  let index = indexes.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      const text = keyText(pair.key, doc);
      if (!index.has(text)) index.set(text, pair.value);
    }
    indexes.set(map, index);
  }
  return index.get(key);
}

/** The pairs of the mapping at `path`, following aliases on the way. */
function mapPairs(doc: Document, path: string[]): Pair[] {
  let node: unknown = doc.contents;
  for (const segment of path) {
    node = deref(doc, node);
    if (!isMap(node)) return [];
    node = valueAt(doc, node as object & { items: Pair[] }, segment);
  }
  node = deref(doc, node);
  return isMap(node) ? (node.items as Pair[]) : [];
}

/** Where a mapping of env or settings lives: a group's own, or `defaults` (for every group). */
export type ValuesOwner = { group: string } | 'defaults';
const ownerPath = (owner: ValuesOwner): string[] => (owner === 'defaults' ? ['defaults'] : ['groups', owner.group]);
export const ownerKeyPath = (owner: ValuesOwner, key: 'env' | 'settings'): string[] => [...ownerPath(owner), key];

export function settingsOf(doc: Document, group: string): [string, SettingValue][] {
  return settingsAt(doc, { group });
}

export function settingsAt(doc: Document, owner: ValuesOwner): [string, SettingValue][] {
  return mapPairs(doc, ownerKeyPath(owner, 'settings')).map((pair) => {
    const value = pair.value;
    const js = value !== null && typeof value === 'object' && 'toJS' in value
      ? (value as { toJS(doc: Document, o: object): unknown }).toJS(doc, { mapAsMap: true, maxAliasCount })
      : null;
    return [keyText(pair.key, doc), js as SettingValue];
  });
}

export function envOf(doc: Document, group: string): [string, string][] {
  return envAt(doc, { group });
}

export function envAt(doc: Document, owner: ValuesOwner): [string, string][] {
  return mapPairs(doc, ownerKeyPath(owner, 'env')).map((pair) => {
    const value = deref(doc, pair.value);
    const text = isScalar(value) ? (typeof value.value === 'string' ? value.value : (value.source ?? String(value.value))) : '';
    return [keyText(pair.key, doc), text];
  });
}

/** The keys of the users mapping as written: scalar or not (an alias is followed). */
export function userKeys(doc: Document): { text: string; scalar: boolean; alias: boolean }[] {
  return mapPairs(doc, ['users']).map((pair) => ({
    text: keyText(pair.key, doc),
    scalar: isScalar(deref(doc, pair.key)),
    alias: isAlias(pair.key),
  }));
}

export function usersOf(doc: Document): UserMapping[] {
  return mapPairs(doc, ['users']).map((pair) => {
    const group = deref(doc, pair.value);
    return { user: keyText(pair.key, doc), group: isScalar(group) ? String(group.value) : '' };
  });
}
