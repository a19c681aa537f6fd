/** Where commands write. The CLI passes the process streams; tests pass buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
