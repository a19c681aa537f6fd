/**
 * End every process of one uid: a helper process switched to that uid sends SIGKILL to -1, which
 * the kernel delivers to every process the uid may signal (its own: a process of another user is
 * out of its reach), atomically with respect to forks of those processes within the call. Only
 * ever for a uid that belongs to one instance alone: never root, never a shared account.
 */
import { spawn } from 'node:child_process';

export async function killAllOfUid(uid: number, gid: number): Promise<void> {
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid) || gid < 0) throw new Error(`refusing to kill every process of uid ${uid}`);
  await new Promise<void>((resolve, reject) => {
    // Node drops the supplementary groups (setgroups(0)) before setgid/setuid.
    const child = spawn(process.execPath, ['-e', "try { process.kill(-1, 'SIGKILL') } catch (e) { if (e.code !== 'ESRCH') throw e }"], {
      uid,
      gid,
      stdio: 'ignore',
      env: {},
      cwd: '/',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 || signal === 'SIGKILL' ? resolve() : reject(new Error(`the helper that ends uid ${uid}'s processes exited with ${code ?? signal}`))));
  });
}
