/**
 * End every process of one uid, as root, by pid: first SIGSTOP every one of them, round after
 * round, until a round finds none still running (a stopped process cannot fork, so the set stops
 * growing), then SIGKILL them all. Nothing runs as the target uid, so its processes cannot stop
 * or kill the killer. `spare` says which processes to leave alone (fresh daemons Apache started).
 * Only ever for a uid that belongs to one instance alone: never root, never a shared account.
 */
import { listProcesses, type ProcessInfo } from './processes.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export interface EndedProcesses {
  ended: number;
  survivors: number[];
}

/**
 * `between` runs while every process of the uid is stopped, before they are killed: the moment to
 * make what must not be touched by them (the new, empty data directory).
 */
export async function endAllOfUid(uid: number, spare: (p: ProcessInfo) => boolean, between: () => Promise<void> = async () => undefined): Promise<EndedProcesses> {
  if (!Number.isInteger(uid) || uid <= 0) throw new Error(`refusing to end every process of uid ${uid}`);
  const targets = async () => (await listProcesses()).filter((p) => p.uid === uid && !spare(p));
  const stopped = new Set<number>();
  for (let round = 0; round < 200; round++) {
    const running = (await targets()).filter((p) => p.state !== 'T' && p.state !== 't' && p.state !== 'Z');
    if (running.length === 0) break;
    for (const p of running) {
      signal(p.pid, 'SIGSTOP');
      stopped.add(p.pid);
    }
    await sleep(5);
  }
  await between();
  for (const p of await targets()) {
    signal(p.pid, 'SIGKILL');
    stopped.add(p.pid);
  }
  let survivors: number[] = [];
  for (let i = 0; i < 100; i++) {
    survivors = (await targets()).filter((p) => p.state !== 'Z').map((p) => p.pid);
    if (survivors.length === 0) break;
    for (const pid of survivors) signal(pid, 'SIGKILL');
    await sleep(20);
  }
  return { ended: stopped.size, survivors };
}
