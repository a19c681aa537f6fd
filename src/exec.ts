/**
 * Run a program to completion and collect what it printed: the one way plexctl runs htpasswd,
 * useradd, apachectl, httxt2dbm and python for a short answer. Built on node:child_process, not
 * execa: loading execa costs about 85 ms (over a hundred modules), which every `user add` and
 * every live `reconcile` paid for one short-lived child. execa stays where its stream handling
 * earns its cost (the tar pipe of collectstatic, `manage` with a terminal passed through).
 *
 * The result follows execa's names (exitCode, stdout, stderr, all, failed, timedOut, message) so
 * that callers read like the execa calls they were; a program that cannot start, or is killed at
 * `timeout`, has no exitCode. The final newline of each output is dropped, as execa does.
 */
import { spawn } from 'node:child_process';

export interface ExecOptions {
  /** Written to standard input, which is then closed. Without it, standard input is /dev/null. */
  input?: string;
  /** The environment; merged over the caller's unless `extendEnv: false` (then it is all there is). */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  /** Milliseconds, then SIGTERM (and SIGKILL 2 s later). */
  timeout?: number;
  /** Throw when the program fails (default true); with false, read `failed` and `exitCode`. */
  reject?: boolean;
  /** Collect stdout and stderr together, in the order they arrived, as `all`. */
  all?: boolean;
  /** `inherit`: the program shares plexctl's terminal (nothing is collected). */
  stdio?: 'inherit';
  stdin?: 'ignore';
  cwd?: string;
}

export interface ExecResult {
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  stdout: string;
  stderr: string;
  /** With `all: true`; otherwise undefined. */
  all: string | undefined;
  failed: boolean;
  timedOut: boolean;
  /** What happened, for a message: the command line and how it ended, then its stderr. */
  message: string;
  shortMessage: string;
}

export class ExecError extends Error {
  constructor(readonly result: ExecResult) {
    super(result.message);
    this.name = 'ExecError';
  }
}

const dropFinalNewline = (text: string) => text.replace(/\r?\n$/, '');

export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const env = options.extendEnv === false ? { ...options.env } : { ...process.env, ...options.env };
  const commandLine = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const all: Buffer[] = [];
    let startError: Error | undefined;
    let timedOut = false;
    const child = spawn(file, args, {
      env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: options.stdio === 'inherit' ? 'inherit' : [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      into.push(chunk);
      if (options.all) all.push(chunk);
    };
    child.stdout?.on('data', collect(stdout));
    child.stderr?.on('data', collect(stderr));
    if (options.input !== undefined && child.stdin) {
      // A program that exits without reading its input (EPIPE) is judged by its exit code.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    let killTimer: NodeJS.Timeout | undefined;
    const timer = options.timeout === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
      killTimer.unref();
    }, options.timeout);
    child.on('error', (error) => (startError = error));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const text = (chunks: Buffer[]) => dropFinalNewline(Buffer.concat(chunks).toString('utf8'));
      const exitCode = startError || timedOut || code === null ? undefined : code;
      const failed = exitCode !== 0;
      const how = startError ? `could not start: ${startError.message}`
        : timedOut ? `timed out after ${options.timeout} ms`
          : signal ? `killed by ${signal}` : `exit ${code}`;
      const shortMessage = `${commandLine}: ${how}`;
      const result: ExecResult = {
        exitCode,
        signal: signal ?? undefined,
        stdout: text(stdout),
        stderr: text(stderr),
        all: options.all ? text(all) : undefined,
        failed,
        timedOut,
        shortMessage,
        message: failed && stderr.length > 0 ? `${shortMessage}\n${text(stderr)}` : shortMessage,
      };
      if (failed && options.reject !== false) reject(new ExecError(result));
      else resolve(result);
    });
  });
}
