/**
 * describeLive: its decision (pure), and what node:test makes of a suite declared with each
 * decision on this Node (on Node 20 a suite context has no skip(), so the decision is made before
 * the suite is declared).
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { liveDecision, makeTempDir, repoRoot, type LiveDecision } from './helpers/e2e.js';

describe('live suites: run, skip or fail', () => {
  const missing = [{ what: 'Apache (/usr/sbin/apache2)' }, { what: 'Django for /usr/bin/python3' }];

  it('runs when nothing is missing, on CI or not', () => {
    assert.deepEqual(liveDecision([], false), { action: 'run' });
    assert.deepEqual(liveDecision([], true), { action: 'run' });
  });

  it('skips outside CI, naming everything missing', () => {
    assert.deepEqual(liveDecision(missing, false), { action: 'skip', reason: 'not installed: Apache (/usr/sbin/apache2), Django for /usr/bin/python3' });
  });

  it('fails under CI, naming everything missing and what to do', () => {
    assert.deepEqual(liveDecision(missing.slice(0, 1), true), {
      action: 'fail',
      reason: 'end-to-end tests need Apache (/usr/sbin/apache2); CI must install them (.ci/run)',
    });
  });
});

describe('declareLive on this Node (a suite declared as skipped or failing, run by node --test in a child)', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function runSuite(decision: LiveDecision): Promise<{ exitCode: number; stdout: string }> {
    const file = join(dir, `suite-${decision.action}.test.mjs`);
    await writeFile(
      file,
      `import { before, it } from 'node:test';
import { declareLive } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/test/helpers/e2e.js')).href)};
declareLive(${JSON.stringify(decision)}, 'a live suite', { timeout: 5000 }, () => {
  before(() => { console.log('HOOK RAN'); });
  it('needs Apache', () => { console.log('TEST RAN'); });
});
`,
    );
    // Without NODE_TEST_CONTEXT, which the runner of this file sets and which would make the child report to it, not in TAP.
    const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
    const r = await execa(process.execPath, ['--test', '--test-reporter=tap', file], { reject: false, env: { ...env, CI: '' }, extendEnv: false });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout };
  }

  it('skip: the suite is reported skipped with the reason; neither its hooks nor its tests run', async () => {
    const r = await runSuite({ action: 'skip', reason: 'not installed: Apache (/usr/sbin/apache2)' });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.match(r.stdout, /^ok 1 - a live suite # SKIP not installed: Apache \(\/usr\/sbin\/apache2\)$/m);
    assert.doesNotMatch(r.stdout, /HOOK RAN|TEST RAN|cancelled [1-9]|not ok/);
  });

  it('fail (CI): one failing test says what is missing; the suite\'s hooks and tests do not run', async () => {
    const r = await runSuite({ action: 'fail', reason: 'end-to-end tests need Apache (/usr/sbin/apache2); CI must install them (.ci/run)' });
    assert.equal(r.exitCode, 1, r.stdout);
    assert.match(r.stdout, /not ok 1 - has Apache, mod_wsgi and Django installed/);
    assert.match(r.stdout, /end-to-end tests need Apache \(\/usr\/sbin\/apache2\); CI must install them/);
    assert.doesNotMatch(r.stdout, /HOOK RAN|TEST RAN/);
  });

  it('run: the suite runs as declared', async () => {
    const r = await runSuite({ action: 'run' });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.match(r.stdout, /HOOK RAN/);
    assert.match(r.stdout, /TEST RAN/);
  });
});
