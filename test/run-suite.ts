/**
 * `npm test`: every test file under node --test, then the cleanup the tests cannot do one by one.
 * As root, plexctl creates a system account per group (plex-GROUP) and never deletes one; the
 * suites share group names and run in parallel, so the accounts this run created are removed
 * here, once every suite is done, and only if no process still runs as them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = fileURLToPath(new URL('.', import.meta.url));
/** Accounts as plexctl makes them (useradd --system, no home, no login shell), by name. */
const accounts = () =>
  new Set(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .filter((f) => f.length >= 7 && f[5] === '/nonexistent' && f[6] === '/usr/sbin/nologin')
      .map((f) => f[0]!),
  );

const before = accounts();
const files = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => join(testDir, f));
const extra = process.argv.slice(2);
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...extra, ...(extra.some((a) => a.endsWith('.js')) ? [] : files)], { stdio: 'inherit' });

if (process.getuid?.() === 0) {
  const created = [...accounts()].filter((name) => !before.has(name));
  const removedNames: string[] = [];
  for (const name of created) {
    const busy = spawnSync('pgrep', ['-u', name], { encoding: 'utf8' }).stdout.trim();
    if (busy) {
      console.error(`run-suite: leaving the account ${name}: processes still run as it (${busy.split('\n').join(', ')})`);
      continue;
    }
    const removed = spawnSync('userdel', [name], { encoding: 'utf8' });
    if (removed.status !== 0) console.error(`run-suite: userdel ${name}: ${removed.stderr.trim()}`);
    else removedNames.push(name);
    // useradd --user-group made a group of the same name; userdel removes it when it is empty.
  }
  if (removedNames.length > 0) console.error(`run-suite: removed ${removedNames.length} system account(s) this run created: ${removedNames.join(', ')}`);
}
process.exitCode = run.status ?? 1;
