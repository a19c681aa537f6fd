/** Running the inventory's Apache control command (`apache.ctl`): config test and graceful restart. */
import { exec } from '../exec.js';
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

export const configTest = (ctl: string[]) => runCtl(ctl, ['-t']);
export const gracefulRestart = (ctl: string[]) => runCtl(ctl, ['-k', 'graceful']);
