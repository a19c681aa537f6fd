/** The step runner of the lifecycle commands (pure): what each step's outcome is reported as. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../src/errors.js';
import { StepsFailed, runSteps, type Step } from '../src/lifecycle/steps.js';

const step = (name: string, run: Step['run']): Step => ({ name, run });

describe('runSteps', () => {
  it('runs every step in order: a detail is done with it, false is skipped, nothing returned is done', async () => {
    const order: string[] = [];
    const results = await runSteps([
      step('inventory', async () => (order.push('inventory'), 'added alice')),
      step('restart', async () => (order.push('restart'), false)),
      step('procmap.txt', async () => void order.push('procmap.txt')),
    ]);
    assert.deepEqual(order, ['inventory', 'restart', 'procmap.txt']);
    assert.deepEqual(results, [
      { name: 'inventory', status: 'done', detail: 'added alice' },
      { name: 'restart', status: 'skipped' },
      { name: 'procmap.txt', status: 'done' },
    ]);
  });

  it('stops at the first failure: the steps before it as they went, it failed with the message, the rest not done and not run', async () => {
    let ranAfter = false;
    const error = await runSteps([
      step('inventory', async () => 'added alice'),
      step('restart', async () => {
        throw new Error('group django1 did not serve again within 15 s');
      }),
      step('procmap.txt', async () => {
        ranAfter = true;
      }),
      step('password', async () => 'set'),
    ]).then(
      () => assert.fail('runSteps should have thrown'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StepsFailed);
    assert.ok(error instanceof UserError, 'the CLI reports it as the user\'s to fix, with its hint');
    assert.equal(ranAfter, false);
    assert.deepEqual(error.steps, [
      { name: 'inventory', status: 'done', detail: 'added alice' },
      { name: 'restart', status: 'failed', detail: 'group django1 did not serve again within 15 s' },
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
    assert.deepEqual(odd.steps, [{ name: 'first', status: 'failed', detail: 'plain text' }]);
  });
});
