/**
 * Run a program to completion and collect what it printed: the one way plexctl runs the password
 * file's tool, useradd, apachectl, httxt2dbm and python for a short answer. Built on node:child_process, not
 * execa: loading execa costs about 85 ms (over a hundred modules), which every `user add` and
 * every live `reconcile` paid for one short-lived child. execa stays where its stream handling
 * earns its cost (the tar pipe of collectstatic, `manage` with a terminal passed through).
 *
 * The result follows execa's names (exitCode, stdout, stderr, all, failed, timedOut, message) so
 * that callers read like the execa calls they were; a program that cannot start, or is killed at
 * `timeout`, has no exitCode. The final newline of each output is dropped, as execa does.
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface ExecOptions {
  /** Written to standard input, which is then closed. Without it, standard input is /dev/null. */
  input?: string;
  /** The environment; merged over the caller's unless `extendEnv: false` (then it is all there is). */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  /** Milliseconds, then SIGTERM to the program and everything it started (SIGKILL 2 s later). */
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

/** More output than any program plexctl runs prints (execa's default limit too). */
const maxOutputBytes = 100 * 1024 * 1024;

/** After the program exited, how long its output pipes may stay open (held by something it left running). */
const pipeGraceMs = 1000;

export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const env = options.extendEnv === false ? { ...options.env } : { ...process.env, ...options.env };
  const commandLine = [file, ...args].join(' ');
  const inherit = options.stdio === 'inherit';
  return new Promise((resolve, reject) => {
    const out = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const text = { stdout: '', stderr: '' };
    let all = '';
    let bytes = 0;
    let startError: Error | undefined;
    let timedOut = false;
    let overflow = false;
    // Its own process group (not with a terminal passed through: Ctrl-C must reach it), so that a
    // timeout ends what it started too, not only the program itself.
    const child = spawn(file, args, {
      env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      detached: !inherit,
      stdio: inherit ? 'inherit' : [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const killAll = (signal: NodeJS.Signals) => {
      try {
        if (!inherit && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    const collect = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxOutputBytes) {
        if (!overflow) killAll('SIGKILL');
        overflow = true;
        return;
      }
      const decoded = out[name].write(chunk);
      text[name] += decoded;
      if (options.all) all += decoded;
    };
    child.stdout?.on('data', collect('stdout'));
    child.stderr?.on('data', collect('stderr'));
    child.stdout?.on('error', () => {});
    child.stderr?.on('error', () => {});
    if (options.input !== undefined && child.stdin) {
      // A program that exits without reading its input (EPIPE) is judged by its exit code.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    let killTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const timer = options.timeout === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      killAll('SIGTERM');
      killTimer = setTimeout(() => killAll('SIGKILL'), 2000);
      killTimer.unref();
    }, options.timeout);
    child.on('error', (error) => (startError = error));
    // 'close' waits for the output pipes; a process the program left behind may hold them open.
    child.on('exit', () => {
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, pipeGraceMs);
      graceTimer.unref();
    });
    child.on('close', (code, signal) => {
      for (const t of [timer, killTimer, graceTimer]) if (t) clearTimeout(t);
      for (const name of ['stdout', 'stderr'] as const) {
        const rest = out[name].end();
        text[name] += rest;
        if (options.all) all += rest;
      }
      const exitCode = startError || timedOut || overflow || code === null ? undefined : code;
      const failed = exitCode !== 0;
      const how = startError ? `could not start: ${startError.message}`
        : overflow ? `printed more than ${maxOutputBytes / 1024 / 1024} MiB and was killed`
          : timedOut ? `timed out after ${options.timeout} ms`
            : signal ? `killed by ${signal}` : `exit ${code}`;
      const shortMessage = `${commandLine}: ${how}`;
      const stderr = dropFinalNewline(text.stderr);
      const result: ExecResult = {
        exitCode,
        signal: signal ?? undefined,
        stdout: dropFinalNewline(text.stdout),
        stderr,
        all: options.all ? dropFinalNewline(all) : undefined,
        failed,
        timedOut,
        shortMessage,
        message: failed && stderr !== '' ? `${shortMessage}\n${stderr}` : shortMessage,
      };
      if (failed && options.reject !== false) reject(new ExecError(result));
      else resolve(result);
    });
  });
}
