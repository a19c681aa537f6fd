/** Running the inventory's Apache control command (`apache.ctl`): config test and graceful restart. */
import { readdir, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { exec } from '../exec.js';
import { shellQuote } from '../system/safe-fs.js';
import { cleanEnv } from './private-server.js';

export interface CtlResult {
  ok: boolean;
  output: string;
}

export async function runCtl(ctl: string[], args: string[]): Promise<CtlResult> {
  const [command, ...rest] = ctl;
  try {
    const result = await exec(command!, [...rest, ...args], { reject: false, all: true, extendEnv: false, env: cleanEnv, timeout: 120_000 });
    // A command that could not start has no exit code and no output: say what happened instead.
    const output = (result.all ?? '').trim() || (result.exitCode === 0 ? '' : `${[command, ...rest, ...args].join(' ')}: ${result.message}`);
    return { ok: result.exitCode === 0, output };
  } catch (error) {
    return { ok: false, output: error instanceof Error ? error.message : String(error) };
  }
}

/** Apache's compiled-in ServerRoot on Debian, against which it resolves a relative path. */
const defaultServerRoot = '/etc/apache2';

export interface ConfigTestOutput {
  /** Every configuration file Apache read (`-D DUMP_INCLUDES`), as it printed them. */
  includes: string[];
  /** The rest of the output: Apache's own messages. */
  messages: string;
  /** The file and line Apache rejected (`AH00526: Syntax error on line N of FILE:`). */
  rejected?: { file: string; line: number };
}

/**
 * The output of `CTL -t -D DUMP_INCLUDES`. Pure. Apache 2.4 prints `Included configuration
 * files:`, then one line per file, indented by its nesting, `(*) FILE` for the main one and
 * `(LINE) FILE` for each Include (the line of the Include that read it); it prints that list
 * even when the test then fails. Errors name the file as `AH00526: Syntax error on line N of FILE:`.
 */
export function parseConfigTest(output: string): ConfigTestOutput {
  const includes: string[] = [];
  const messages: string[] = [];
  let listing = false;
  for (const line of output.split('\n')) {
    if (line === 'Included configuration files:') {
      listing = true;
      continue;
    }
    const entry = listing ? /^\s+\((?:\*|\d+)\) (.+)$/.exec(line) : null;
    if (entry) {
      includes.push(entry[1]!);
      continue;
    }
    listing = false;
    messages.push(line);
  }
  const text = messages.join('\n').trim();
  const syntax = /AH00526: Syntax error on line (\d+) of (.+?):\s*$/m.exec(text);
  return { includes, messages: text, ...(syntax ? { rejected: { file: syntax[2]!, line: Number(syntax[1]) } } : {}) };
}

export interface ConfigTest extends CtlResult {
  includes: string[];
  rejected?: { file: string; line: number };
}

/** `CTL -t`, also listing the files the configuration includes. */
export async function configTest(ctl: string[]): Promise<ConfigTest> {
  const result = await runCtl(ctl, ['-t', '-D', 'DUMP_INCLUDES']);
  const parsed = parseConfigTest(result.output);
  return { ok: result.ok, output: parsed.messages, includes: parsed.includes, ...(parsed.rejected ? { rejected: parsed.rejected } : {}) };
}

export const gracefulRestart = (ctl: string[]) => runCtl(ctl, ['-k', 'graceful']);

const realOrResolved = (path: string) => realpath(path).catch(() => resolve(path));

/** Whether `file` is among the files Apache included, by real path (a2enconf's links count). */
export async function isIncluded(includes: string[], file: string): Promise<boolean> {
  const wanted = await realOrResolved(file);
  for (const included of includes) {
    const path = isAbsolute(included) ? included : join(defaultServerRoot, included);
    if (path === file || (await realOrResolved(path)) === wanted) return true;
  }
  return false;
}

const confAvailable = '/etc/apache2/conf-available';

/**
 * How to make the configuration `ctl` tests load `fragment`: an Include line in the `-f` file,
 * else a2enconf (of the link in conf-available that already points at it, or of a new one).
 */
export async function includeFix(ctl: string[], fragment: string): Promise<string> {
  const f = ctl.indexOf('-f');
  if (f >= 0 && ctl[f + 1] !== undefined) {
    return `add the line \`Include "${fragment}"\` to ${ctl[f + 1]} at server level (outside any <VirtualHost>)`;
  }
  const wanted = await realOrResolved(fragment);
  for (const name of (await readdir(confAvailable).catch(() => [] as string[])).filter((n) => n.endsWith('.conf')).sort()) {
    if ((await realOrResolved(join(confAvailable, name))) === wanted) return `a2enconf ${name.slice(0, -'.conf'.length)}`;
  }
  const name = basename(fragment, '.conf');
  return `ln -s ${shellQuote(fragment)} ${shellQuote(`${confAvailable}/${name}.conf`)} && a2enconf ${shellQuote(name)} (or add \`Include "${fragment}"\` to Apache's configuration at server level)`;
}
