/** The step runner of the lifecycle commands (pure): what each step's outcome is reported as. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../src/errors.js';
import { StepsFailed, runSteps, type Step } from '../src/lifecycle/steps.js';
import type { Event } from '../src/model/events.js';

const step = (name: string, run: Step['run']): Step => ({ name, run });
const added: Event = { kind: 'inventory', change: 'set', user: 'alice', group: 'django1', file: '/srv/plex/plex.yaml' };

describe('runSteps', () => {
  it('runs every step in order: events are done with them, false is skipped, no events is done', async () => {
    const order: string[] = [];
    const results = await runSteps([
      step('inventory', async () => (order.push('inventory'), [added])),
      step('restart', async () => (order.push('restart'), false)),
      step('procmap.txt', async () => (order.push('procmap.txt'), [])),
    ]);
    assert.deepEqual(order, ['inventory', 'restart', 'procmap.txt']);
    assert.deepEqual(results, [
      { name: 'inventory', status: 'done', events: [added] },
      { name: 'restart', status: 'skipped' },
      { name: 'procmap.txt', status: 'done', events: [] },
    ]);
  });

  it('stops at the first failure: the steps before it as they went, it failed with the message, the rest not done and not run', async () => {
    let ranAfter = false;
    const error = await runSteps([
      step('inventory', async () => [added]),
      step('restart', async () => {
        throw new Error('group django1 did not serve again within 15 s');
      }),
      step('procmap.txt', async () => {
        ranAfter = true;
        return [];
      }),
      step('password', async () => []),
    ]).then(
      () => assert.fail('runSteps should have thrown'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StepsFailed);
    assert.ok(error instanceof UserError, 'the CLI reports it as the user\'s to fix, with its hint');
    assert.equal(ranAfter, false);
    assert.deepEqual(error.steps, [
      { name: 'inventory', status: 'done', events: [added] },
      { name: 'restart', status: 'failed', error: 'group django1 did not serve again within 15 s' },
      { name: 'procmap.txt', status: 'not done' },
      { name: 'password', status: 'not done' },
    ]);
    assert.equal(error.message, 'restart failed: group django1 did not serve again within 15 s');
    assert.equal(error.hint, 'fix the cause, then run the same command again (or `plexctl reconcile`): it completes the steps not done');
  });

  it("puts a UserError's own hint before the advice to run again; a thrown non-Error is its string", async () => {
    const withHint = await runSteps([step('lock', async () => Promise.reject(new UserError('the inventory is locked', 'wait for the other plexctl')))]).catch((e: unknown) => e);
    assert.ok(withHint instanceof StepsFailed);
    assert.equal(withHint.hint, 'wait for the other plexctl; then run the same command again (or `plexctl reconcile`): it completes the steps not done');
    const odd = await runSteps([step('first', async () => Promise.reject('plain text'))]).catch((e: unknown) => e);
    assert.ok(odd instanceof StepsFailed);
    assert.equal(odd.message, 'first failed: plain text');
    assert.deepEqual(odd.steps, [{ name: 'first', status: 'failed', error: 'plain text' }]);
  });
});

describe('step lines say what happened', () => {
  it('a skipped step says why: no password given, a password kept, nothing needed; a restart with Apache down is "not signalled", never "done"', async () => {
    const { formatSteps } = await import('../src/commands/format-steps.js');
    const results = await runSteps([
      step('instance', async () => false),
      step('restart', async () => ({ skipped: 'not-running', events: [{ kind: 'not-signalled', reason: 'no pid file at /run/x.pid' }] })),
      step('release', async () => ({ skipped: 'not-needed' })),
      step('password', async () => ({ skipped: 'no-password' })),
    ]);
    assert.deepEqual(results.map((r) => [r.name, r.status, r.reason]), [
      ['instance', 'skipped', undefined],
      ['restart', 'skipped', 'not-running'],
      ['release', 'skipped', 'not-needed'],
      ['password', 'skipped', 'no-password'],
    ]);
    const text = formatSteps(results);
    assert.match(text, /^ {2}instance {2}no change$/m);
    assert.match(text, /^ {2}restart {3}not signalled: Apache is not running \(no pid file at \/run\/x\.pid\)$/m);
    assert.doesNotMatch(text, /restart\s+done/);
    assert.match(text, /^ {2}release {3}not needed$/m);
    assert.match(text, /^ {2}password {2}not set \(no --password-stdin; `plexctl user passwd NAME --password-stdin` sets it\)$/m);
    assert.doesNotMatch(text, /password\s+no change/);
    assert.match(formatSteps([{ name: 'password', status: 'skipped', reason: 'password-kept' }]), /password {2}already set, kept/);
  });
});
