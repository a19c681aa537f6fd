/**
 * A name from the inventory inside a message: JSON-quoted, with C1 controls, DEL and line
 * separators escaped too, so a message stays on one line and no escape sequence reaches a terminal.
 */
export function quote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
