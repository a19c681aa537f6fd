/**
 * execa, loaded on first use: it costs about a fifth of a second to load, which commands that
 * only read and write files (validate, render, plan without a live Apache) should not pay.
 */
import type { Options } from 'execa';

export async function exec<O extends Options>(file: string, args: readonly string[], options: O) {
  const { execa } = await import('execa');
  return await execa(file, args, options);
}
