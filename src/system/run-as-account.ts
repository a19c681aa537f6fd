/**
 * Run a program as another account (as root: setpriv drops to its uid, gid and groups, with no
 * capabilities and no way to gain privileges), with exactly the environment given.
 */
import { execa } from 'execa';

export interface RunAsAccount {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  account?: { user: string; group: string };
}

export type Stdio = 'inherit' | 'pipe';

function command(run: RunAsAccount): [string, string[]] {
  if (run.account === undefined) return [run.file, run.args];
  return [
    '/usr/bin/setpriv',
    ['--reuid', run.account.user, '--regid', run.account.group, '--init-groups', '--no-new-privs', '--inh-caps=-all', '--', run.file, ...run.args],
  ];
}

export interface RunResult {
  exitCode: number;
  /** Output and errors interleaved (only when piped). */
  output: string;
}

/** `inherit`: the terminal's stdin, stdout and stderr; `pipe`: output collected, or each line handed to onLine. */
export async function runAsAccount(run: RunAsAccount, stdio: Stdio, onLine?: (line: string) => void): Promise<RunResult> {
  const [file, args] = command(run);
  const child = execa(file, args, {
    env: run.env,
    extendEnv: false,
    cwd: run.cwd,
    reject: false,
    stdin: stdio === 'inherit' ? 'inherit' : 'ignore',
    stdout: stdio,
    stderr: stdio,
    all: stdio === 'pipe',
    buffer: stdio === 'pipe',
  });
  if (stdio === 'pipe' && onLine) {
    let rest = '';
    child.all?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.all?.on('end', () => {
      if (rest !== '') onLine(rest);
    });
  }
  const result = await child;
  const signal = result.signal ? 128 + (signalNumbers[result.signal] ?? 0) : undefined;
  return { exitCode: result.exitCode ?? signal ?? 1, output: typeof result.all === 'string' ? result.all : '' };
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
