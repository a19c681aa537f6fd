/**
 * reconcile's plan from tables of live states, and the restart decisions of user add/remove/move:
 * pure functions, no Apache.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateInventoryText } from '../src/inventory/validate.js';
import type { Inventory } from '../src/inventory/types.js';
import type { FileChange } from '../src/model/files.js';
import type { LiveState } from '../src/observe/live-state.js';
import { isPending, planReconcile } from '../src/plan/reconcile-plan.js';
import { renderFiles } from '../src/render/generated-files.js';
import { generatedPaths } from '../src/render/files.js';
import { restartOnAdd, restartOnMove, restartOnRemove, restartOnResume } from '../src/lifecycle/restart-decisions.js';

function inventory(): Inventory {
  const text = `site: {settings_module: demo.settings}
apache: {conf_file: build/plex.conf, wsgi_dir: build/wsgi, user_file: build/htpasswd}
groups: {g1: {}, g2: {}}
users: {alice: g1, bob: g2}
`;
  const { inventory: inv, problems } = validateInventoryText('/srv/plex/plex.yaml', text);
  assert.deepEqual(problems, []);
  return inv!;
}

const T0 = 1_000_000;

function live(overrides: Partial<LiveState> = {}): LiveState {
  return {
    server: { running: true, pid: 100 },
    daemons: new Map([
      ['g1', { pids: [101], oldestStart: T0 }],
      ['g2', { pids: [102], oldestStart: T0 }],
    ]),
    stray: [],
    mtimes: new Map(),
    passwordUsers: ['alice', 'bob'],
    ...overrides,
  };
}

const change = (path: string, kind: FileChange['kind'], group?: string): FileChange => ({ action: 'update', path, kind, ...(group ? { group } : {}), before: 'a', after: 'b' });

describe('planReconcile from live states', () => {
  const inv = inventory();
  const desired = renderFiles(inv);
  const paths = generatedPaths(inv);

  const cases: { name: string; files?: FileChange[]; live: LiveState; graceful: string[]; restart: string[]; pending: boolean }[] = [
    { name: 'in sync: nothing to do', live: live(), graceful: [], restart: [], pending: false },
    { name: 'Apache not running: files only, no restart', files: [change(paths.group('g1'), 'group-script', 'g1')], live: live({ server: { running: false, reason: 'no pid file' } }), graceful: [], restart: [], pending: true },
    { name: 'conf changes: graceful', files: [change(paths.conf, 'apache-conf')], live: live(), graceful: [`${paths.conf} changes`], restart: [], pending: true },
    { name: 'conf newer than the oldest daemon: graceful', live: live({ mtimes: new Map([[paths.conf, T0 + 1000]]) }), graceful: [`${paths.conf} changed after Apache last loaded it`], restart: [], pending: true },
    { name: 'conf newer within the clock tolerance: nothing', live: live({ mtimes: new Map([[paths.conf, T0 + 15]]) }), graceful: [], restart: [], pending: false },
    { name: 'a group without daemons: graceful', live: live({ daemons: new Map([['g1', { pids: [101], oldestStart: T0 }], ['g2', { pids: [] }]]) }), graceful: ['no daemon runs for g2'], restart: [], pending: true },
    { name: 'a stray daemon: graceful', live: live({ stray: [{ group: 'ghost', pids: [200] }] }), graceful: ['daemons run for groups not in the inventory: ghost'], restart: [], pending: true },
    { name: 'one group script changes: that group only', files: [change(paths.group('g2'), 'group-script', 'g2')], live: live(), graceful: [], restart: ['g2: its settings script changes'], pending: true },
    { name: 'site.wsgi changes: every group', files: [change(paths.main, 'main-script')], live: live(), graceful: [], restart: ['g1: the site script changes', 'g2: the site script changes'], pending: true },
    { name: 'a group script newer than its daemon: that group', live: live({ mtimes: new Map([[paths.group('g1'), T0 + 500]]) }), graceful: [], restart: ['g1: its settings script changed after its daemons started'], pending: true },
    { name: 'site.wsgi newer than one group: that group', live: live({ daemons: new Map([['g1', { pids: [101], oldestStart: T0 }], ['g2', { pids: [102], oldestStart: T0 + 2000 }]]), mtimes: new Map([[paths.main, T0 + 1000]]) }), graceful: [], restart: ['g1: the site script changed after its daemons started'], pending: true },
    { name: 'the map changes: no restart at all', files: [change(paths.procmap, 'procmap')], live: live(), graceful: [], restart: [], pending: true },
    { name: 'conf change wins over script changes: graceful only', files: [change(paths.group('g1'), 'group-script', 'g1'), change(paths.conf, 'apache-conf')], live: live(), graceful: [`${paths.conf} changes`], restart: [], pending: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planReconcile(inv, desired, c.files ?? [], c.live);
      assert.deepEqual(plan.graceful, c.graceful);
      assert.deepEqual(plan.restart.map((r) => `${r.group}: ${r.reason}`), c.restart);
      assert.equal(isPending(plan), c.pending);
    });
  }

  it('passwords: of users not in the inventory are removed, missing ones are noted', () => {
    const plan = planReconcile(inv, desired, [], live({ passwordUsers: ['alice', 'intruder'] }));
    assert.deepEqual(plan.removePasswords, ['intruder']);
    assert.deepEqual(plan.missingPasswords, ['bob']);
    assert.equal(isPending(plan), true);
  });
});

describe('restart decisions of user add, remove and move', () => {
  const script = (group: string): FileChange => change(`/w/group-${group}.wsgi`, 'group-script', group);
  const map: FileChange = change('/w/procmap.txt', 'procmap');

  it('add to an empty group that served someone restarts it (a fresh tenant gets a fresh process)', () => assert.deepEqual(restartOnAdd('g1', 0, [map]), ['g1']));
  it('add to a ready group (released, or never used: its daemon served nobody) restarts nothing', () => assert.deepEqual(restartOnAdd('g1', 0, [map], true), []));
  it('add to a ready group whose script changes still restarts it', () => assert.deepEqual(restartOnAdd('g1', 0, [script('g1')], true), ['g1']));
  it('add to a group in use restarts nothing', () => assert.deepEqual(restartOnAdd('g1', 2, [map]), []));
  it('add whose group script changes restarts that group', () => assert.deepEqual(restartOnAdd('g1', 2, [script('g1')]), ['g1']));
  it('add does not restart another group whose script changes', () => assert.deepEqual(restartOnAdd('g1', 2, [script('g2')]), []));
  it('completing an add that never reached the map, alone in the group: restart', () => assert.deepEqual(restartOnResume('g1', false, 1), ['g1']));
  it('completing an add already mapped: no restart', () => assert.deepEqual(restartOnResume('g1', true, 1), []));
  it('completing an add in a shared group: no restart', () => assert.deepEqual(restartOnResume('g1', false, 3), []));
  it('remove of the last user restarts the group', () => assert.deepEqual(restartOnRemove('g1', 0, [map]), ['g1']));
  it('remove with users left restarts nothing', () => assert.deepEqual(restartOnRemove('g1', 1, [map]), []));
  it('move restarts the groups whose scripts change, never for the map alone', () => {
    assert.deepEqual(restartOnMove([map]), []);
    assert.deepEqual(restartOnMove([script('g1'), script('g2'), map]), ['g1', 'g2']);
  });
});
