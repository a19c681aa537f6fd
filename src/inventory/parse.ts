/** YAML text -> document, plain data and located syntax problems. Pure. */
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Problem } from '../errors.js';
import { formatKeyPath, pathAtOffset } from './locate.js';

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
  const doc = parseDocument(text, { lineCounter: lines, schema: 'core', uniqueKeys: true, prettyErrors: false });
  const problems: Problem[] = [];
  let fatal = false;
  for (const error of [...doc.errors, ...doc.warnings]) {
    const offset = error.pos[0];
    const { line, col } = lines.linePos(offset);
    const path = pathAtOffset(doc, offset);
    let message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    if (error.code === 'DUPLICATE_KEY') {
      const key = duplicateKeyText(text.slice(error.pos[0]));
      message = `duplicate key ${/^["']/.test(key) ? key : `"${key}"`}: each key may appear once`;
    } else {
      fatal = true;
      message = `YAML: ${message}`;
    }
    problems.push({ file, line, col, path: formatKeyPath(path), message });
  }
  if (fatal) return { doc, lines, data: undefined, problems };
  try {
    return { doc, lines, data: doc.toJS({ maxAliasCount }), problems };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    problems.push({ file, line: 1, col: 1, path: '(document)', message: `YAML: ${reason}` });
    return { doc, lines, data: undefined, problems };
  }
}

/** The key at the start of `rest`: a quoted scalar, or plain text up to ": ". */
function duplicateKeyText(rest: string): string {
  const match = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\n]*?)\s*:(?:\s|$)/.exec(rest);
  return match ? match[1]! : rest.split('\n')[0]!;
}
