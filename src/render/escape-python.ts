/**
 * Python literals for values of any content. Output is pure printable ASCII, so the generated
 * script's encoding never matters, and every character outside that set is an escape that Python
 * reads back as exactly the same code point: nothing in a value can end the literal or inject code.
 */
import type { SettingValue } from '../inventory/types.js';

export function pyStr(value: string): string {
  let out = "'";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return `${out}'`;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function pyNumber(value: number): string {
  if (Number.isNaN(value)) return "float('nan')";
  if (value === Infinity) return "float('inf')";
  if (value === -Infinity) return "float('-inf')";
  if (Object.is(value, -0)) return '-0.0';
  // Integers arrive as bigint, so a number is a YAML float and stays a Python float (5.0, not 5).
  // JS prints the shortest text that reads back as the same double; so does Python's float().
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

export function pyValue(value: SettingValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'string') return pyStr(value);
  if (Array.isArray(value)) return `[${value.map(pyValue).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${pyValue(k)}: ${pyValue(v)}`).join(', ')}}`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pyStr(k)}: ${pyValue(v)}`)
    .join(', ')}}`;
}
