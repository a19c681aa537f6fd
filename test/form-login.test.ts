/**
 * Unit tests of apache.auth: form that need no Apache: the inventory keys, the session key file,
 * the doctor's module list, and that a plan never shows the key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProblem } from '../src/errors.js';
import { validateInventoryText } from '../src/inventory/validate.js';
import { parseDuration } from '../src/inventory/duration.js';
import { formatSessionKeys, isUsableSessionKeyFile, parseSessionKeys, rotatedKeys } from '../src/render/session-key.js';
import { newPassphrase, newSessionKeyFile } from '../src/apply/session-key.js';
import { requiredModulesFor } from '../src/apache/doctor-checks.js';
import { planFiles } from '../src/plan/file-plan.js';
import { formatDiff } from '../src/plan/diff.js';
import { planJson } from '../src/commands/format-plan.js';
import { renderFiles } from '../src/render/generated-files.js';

const FILE = '/srv/plex/plex.yaml';
const inventory = (apache: string[]) =>
  [
    'site:',
    '  settings_module: demo.settings',
    'apache:',
    '  conf_file: build/plex.conf',
    '  wsgi_dir: build/wsgi',
    '  user_file: build/htpasswd',
    ...apache.map((l) => `  ${l}`),
    'groups:',
    '  g1:',
    'users:',
    '  alice: g1',
    '',
  ].join('\n');
const problems = (apache: string[]) => validateInventoryText(FILE, inventory(apache)).problems.map(formatProblem);

describe('the inventory keys of form login', () => {
  it('defaults to basic, with /_plex/, 8h and 5m, and no tls', () => {
    const { inventory: inv } = validateInventoryText(FILE, inventory([]));
    assert.equal(inv!.apache.auth, 'basic');
    assert.equal(inv!.apache.authPath, '/_plex/');
    assert.deepEqual(inv!.apache.session, { maxAge: 8 * 3600, idleUpdate: 300 });
    assert.equal(inv!.apache.tls, false);
    assert.equal(inv!.apache.loginTemplate, undefined);
  });

  it('reads auth, auth_path, session, tls and login_template (resolved against the inventory)', () => {
    const { inventory: inv, problems: found } = validateInventoryText(
      FILE,
      inventory(['auth: form', 'auth_path: /auth/', 'session: {max_age: 30m, idle_update: 30s}', 'tls: true', 'login_template: pages/login.ejs']),
    );
    assert.deepEqual(found, []);
    assert.equal(inv!.apache.auth, 'form');
    assert.equal(inv!.apache.authPath, '/auth/');
    assert.deepEqual(inv!.apache.session, { maxAge: 1800, idleUpdate: 30 });
    assert.equal(inv!.apache.tls, true);
    assert.equal(inv!.apache.loginTemplate, '/srv/plex/pages/login.ejs');
  });

  it('reports every mistake with its place', () => {
    assert.deepEqual(problems(['auth: forms', 'auth_path: /_plex', 'session: {max_age: 8 hours, idle: 5m}', 'tls: yes']), [
      '/srv/plex/plex.yaml:7:9: apache.auth: must be one of basic, form, found the string "forms" (did you mean "form"?)',
      '/srv/plex/plex.yaml:8:14: apache.auth_path: must be a path like "/_plex/": starts and ends with "/", letters, digits and "._-" between',
      '/srv/plex/plex.yaml:9:22: apache.session.max_age: must be a duration like "30s", "5m", "8h" or "1d"',
      '/srv/plex/plex.yaml:9:31: apache.session.idle: unknown key "idle"',
      '/srv/plex/plex.yaml:10:8: apache.tls: expected true or false, found the string "yes"',
    ]);
  });

  it('refuses a session that never ends or ends while in use, and secrets in the served login directory', () => {
    assert.deepEqual(problems(['auth: form', 'session: {max_age: 0s, idle_update: 0s}']), [
      '/srv/plex/plex.yaml:8:22: apache.session.max_age: must be at least 10s (0 would mean a session never ends)',
      '/srv/plex/plex.yaml:8:39: apache.session.idle_update: must be shorter than max_age (0 s), or a session would end while in use',
    ]);
    assert.match(problems(['auth: form', 'session: {max_age: 5m, idle_update: 5m}']).join('\n'), /idle_update: must be shorter than max_age \(300 s\)/);
    const exposed = validateInventoryText(FILE, inventory(['auth: form']).replace('user_file: build/htpasswd', 'user_file: build/plex-login/htpasswd')).problems;
    assert.match(exposed.map(formatProblem).join('\n'), /apache\.user_file: must not be inside \/srv\/plex\/build\/plex-login, the login page's directory/);
    // Only form login serves that directory.
    assert.deepEqual(validateInventoryText(FILE, inventory([]).replace('user_file: build/htpasswd', 'user_file: build/plex-login/htpasswd')).problems, []);
  });

  it('parses durations', () => {
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('5m'), 300);
    assert.equal(parseDuration('8h'), 28800);
    assert.equal(parseDuration('1d'), 86400);
    assert.equal(parseDuration('8 h'), undefined);
    assert.equal(parseDuration('1.5h'), undefined);
  });
});

describe('the session key file', () => {
  it('holds 32 random bytes per passphrase, base64url, and only a usable file is kept', () => {
    const a = newPassphrase();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(newPassphrase(), a);
    assert.ok(isUsableSessionKeyFile(newSessionKeyFile()));
    for (const bad of ['', '# only a comment\n', 'SessionCryptoPassphrase short\n', `SessionCryptoPassphrase "${a}"\n`, `SessionCryptoPassphrase ${a}\nSessionCryptoPassphrase ${a}\n`, `SessionCryptoPassphrase exec:/bin/x\n`, `Include /etc/passwd\nSessionCryptoPassphrase ${a}\n`]) {
      assert.equal(isUsableSessionKeyFile(bad), false, JSON.stringify(bad));
    }
  });

  it('rotates: the new passphrase first, one old one kept, the one before that dropped', () => {
    const [k1, k2, k3] = [newPassphrase(), newPassphrase(), newPassphrase()];
    assert.deepEqual(rotatedKeys([k1], k2), [k2, k1]);
    assert.deepEqual(rotatedKeys([k2, k1], k3), [k3, k2]);
    assert.deepEqual(parseSessionKeys(formatSessionKeys([k3, k2])), [k3, k2]);
    assert.throws(() => formatSessionKeys([k1, k2, k3]));
  });

  it('is planned without content, and neither a diff nor --json shows it', () => {
    const { inventory: inv } = validateInventoryText(FILE, inventory(['auth: form']));
    const desired = renderFiles(inv!);
    const key = desired.find((f) => f.kind === 'session-key')!;
    const existing = newSessionKeyFile();
    const passphrase = parseSessionKeys(existing)![0]!;
    const kept = planFiles(desired, { contents: new Map([[key.path, existing]]), owned: new Map() });
    assert.equal(kept.find((c) => c.kind === 'session-key'), undefined, 'a usable key is kept');
    const broken = planFiles(desired, { contents: new Map([[key.path, `SessionCryptoPassphrase ${passphrase} junk\n`]]), owned: new Map() });
    const change = broken.find((c) => c.kind === 'session-key')!;
    assert.equal(change.action, 'update');
    assert.equal(change.after, undefined, 'apply makes the new one');
    assert.doesNotMatch(formatDiff(change), new RegExp(passphrase));
    assert.doesNotMatch(JSON.stringify(planJson({ instances: { accounts: [], dirs: [], blocked: [], foreign: [] }, files: broken, removePasswords: [], missingPasswords: [], graceful: [], restart: [], missingDaemons: [], strayDaemons: [], release: [], init: [], suspect: [] }, true)), new RegExp(passphrase));
  });
});

describe('doctor', () => {
  it('asks for the modules of the inventory\'s auth', () => {
    const basic = validateInventoryText(FILE, inventory([])).inventory!;
    const form = validateInventoryText(FILE, inventory(['auth: form'])).inventory!;
    assert.deepEqual(requiredModulesFor(basic), ['wsgi', 'rewrite', 'auth_basic', 'authz_user', 'authn_core', 'authz_core']);
    const formModules = requiredModulesFor(form);
    for (const m of ['auth_form', 'session', 'session_cookie', 'session_crypto', 'request', 'headers', 'alias']) assert.ok(formModules.includes(m), m);
    assert.ok(!formModules.includes('auth_basic'));
  });
});
