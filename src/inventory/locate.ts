/** Turn key paths into line and column numbers of the YAML source, and offsets back into key paths. */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { KeyPath } from './check-schema.js';
import { quote } from './quote.js';

export interface Position {
  line: number;
  col: number;
}

/** `groups.django1.env.DEMO_DB`; odd keys in brackets: `users["a b"]`; `(document)` for the root. */
export function formatKeyPath(path: KeyPath): string {
  if (path.length === 0) return '(document)';
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (/^[A-Za-z0-9_-]+$/.test(segment)) return i === 0 ? segment : `.${segment}`;
      return `[${quote(segment)}]`;
    })
    .join('');
}

interface Located {
  key?: Node;
  value?: Node;
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** The key and value nodes at `path`, or the deepest ones found on the way. */
function nodesAt(doc: Document, path: KeyPath): Located {
  let located: Located = { value: doc.contents ?? undefined };
  for (const segment of path) {
    const node = deref(doc, located.value);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return located;
      located = { key: pair.key as Node, value: (pair.value as Node | null) ?? undefined };
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) return located;
      located = { value: item as Node };
    } else {
      return located;
    }
  }
  return located;
}

export function positionOf(doc: Document, lines: LineCounter, path: KeyPath, at: 'key' | 'value'): Position {
  const { key, value } = nodesAt(doc, path);
  const node = at === 'key' ? (key ?? value) : (value ?? key);
  const offset = node?.range?.[0] ?? 0;
  return lines.linePos(offset);
}

/** The key path of the deepest node whose source contains `offset`. */
export function pathAtOffset(doc: Document, offset: number): KeyPath {
  const path: KeyPath = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const start = (p.key as Node | null)?.range?.[0];
        const end = (p.value as Node | null)?.range?.[2] ?? (p.key as Node | null)?.range?.[2];
        return start !== undefined && end !== undefined && offset >= start && offset <= end;
      });
      if (!pair || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const range = (item as Node | null)?.range;
        return range != null && offset >= range[0] && offset <= range[2];
      });
      if (index < 0) return path;
      path.push(index);
      node = node.items[index];
    } else {
      return path;
    }
  }
}
