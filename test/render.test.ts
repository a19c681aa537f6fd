/**
 * Rendering, compared with committed files a reviewer can read (test/fixtures/render/).
 * After an intended change: UPDATE_FIXTURES=1 npm test, then review the diff.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { validateInventoryText } from '../src/inventory/validate.js';
import type { Inventory } from '../src/inventory/types.js';
import { renderFiles, renderProcmap } from '../src/render/generated-files.js';
import { repoRoot } from './helpers/e2e.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'render');

async function demoInventory(): Promise<Inventory> {
  const text = await readFile(join(repoRoot, 'examples', 'demo', 'plex.yaml'), 'utf8');
  // A fixed location, so the absolute paths in the output do not depend on the checkout.
  const { inventory, problems } = validateInventoryText('/srv/plex/plex.yaml', text);
  assert.deepEqual(problems, []);
  return inventory!;
}

describe('render', () => {
  it('matches the committed files for the demo inventory', async () => {
    const files = renderFiles(await demoInventory());
    assert.deepEqual(
      files.map((f) => f.path),
      [
        '/srv/plex/build/plex.conf',
        '/srv/plex/build/plex.conf.session-key',
        '/srv/plex/build/plex-login/login',
        '/srv/plex/build/plex-login/login-failed',
        '/srv/plex/build/wsgi/site.wsgi',
        '/srv/plex/build/wsgi/group-django1.wsgi',
        '/srv/plex/build/wsgi/group-django2.wsgi',
        '/srv/plex/build/wsgi/group-django3.wsgi',
        '/srv/plex/build/wsgi/procmap.txt',
      ],
    );
    for (const file of files) {
      // The session key is random: apply makes it, render only names it.
      if (file.kind === 'session-key') {
        assert.equal(file.content, '');
        continue;
      }
      const fixture = join(fixtures, basename(file.path));
      if (process.env.UPDATE_FIXTURES === '1') {
        await mkdir(fixtures, { recursive: true });
        await writeFile(fixture, file.content);
      }
      assert.equal(file.content, await readFile(fixture, 'utf8'), `${basename(file.path)} differs from ${fixture}`);
    }
  });

  it('is deterministic', async () => {
    const inventory = await demoInventory();
    assert.deepEqual(renderFiles(inventory), renderFiles(inventory));
  });

  it('puts the rules where REMOTE_USER is known, with a default for the lookup, and never allows embedded mode', async () => {
    const inventory = await demoInventory();
    inventory.apache = { ...inventory.apache, auth: 'basic' };
    const conf = renderFiles(inventory)[0]!.content;
    assert.match(conf, /AuthType Basic/);
    assert.doesNotMatch(conf, /Session|auth_form|form-login/i);
    assert.equal(renderFiles(inventory).filter((f) => f.kind === 'login-page' || f.kind === 'session-key').length, 0);
    const directory = conf.slice(conf.indexOf('<Directory'), conf.indexOf('</Directory>'));
    assert.match(directory, /RewriteRule \^ - \[E=PLEXCTL_GROUP:\$\{plexctl_procmap:%\{REMOTE_USER\}\|-NONE-\}\]/);
    assert.match(directory, /RewriteCond %\{ENV:PLEXCTL_GROUP\} =-NONE-\n\s+RewriteRule \^ - \[F\]/);
    assert.match(directory, /WSGIRestrictProcess django1 django2 django3\n/);
    assert.match(directory, /WSGIApplicationGroup %\{GLOBAL\}/);
    const outside = conf.replace(directory, '');
    assert.doesNotMatch(outside, /RewriteRule/, 'no rewrite rule at server level, where REMOTE_USER is empty');
    assert.match(conf, /^WSGIRestrictEmbedded On$/m);
    assert.match(conf, /^WSGIScriptReloading Off$/m);
    assert.match(conf, /^WSGIDaemonProcess django1 display-name=%\{GROUP\} group=plex-django1 home=\/srv\/plex\/data\/django1 processes=1 threads=2 user=plex-django1$/m);
  });

  it('sorts procmap.txt byte by byte, whatever the inventory order', async () => {
    const inventory = await demoInventory();
    inventory.users = [
      { user: 'zoë', group: 'django1' },
      { user: 'Zed', group: 'django2' },
      { user: 'zoe', group: 'django3' },
      { user: 'a', group: 'django1' },
    ];
    const lines = renderProcmap(inventory).split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines, ['Zed django2', 'a django1', 'zoe django3', 'zoë django1']);
  });

  it('with auth: form, escapes the realm for HTML on the login page and for Apache in the fragment, and marks the cookie Secure only under tls', async () => {
    const inventory = await demoInventory();
    inventory.apache = { ...inventory.apache, realm: `Tom & Jerry's <b>site</b>` };
    const page = renderFiles(inventory).find((f) => f.path.endsWith('/login'))!.content;
    assert.match(page, /<h1>Tom &amp; Jerry&#39;s &lt;b&gt;site&lt;\/b&gt;<\/h1>/);
    assert.doesNotMatch(page, /<b>/);
    const conf = renderFiles(inventory)[0]!.content;
    assert.match(conf, /AuthName "Tom & Jerry's <b>site<\/b>"/);
    // A double quote cannot reach AuthName: validation refuses it, and the escaper refuses it again.
    inventory.apache = { ...inventory.apache, realm: 'say "hi"' };
    assert.throws(() => renderFiles(inventory));
    assert.match(conf, /^SessionCookieName plexsess path=\/;HttpOnly;SameSite=Lax$/m);
    inventory.apache = { ...inventory.apache, realm: 'plex demo', tls: true };
    assert.match(renderFiles(inventory)[0]!.content, /^SessionCookieName plexsess path=\/;HttpOnly;SameSite=Lax;Secure$/m);
    inventory.site = { ...inventory.site, mount: '/app' };
    const mounted = renderFiles(inventory)[0]!.content;
    assert.match(mounted, /^SessionCookieName plexsess path=\/app;HttpOnly;SameSite=Lax;Secure$/m);
    assert.match(mounted, /RewriteRule \^ - \[E=PLEXCTL_RETURN:\/app\]/);
  });

  it('with auth: form, renders the operator\'s login template, and says which template failed', async () => {
    const inventory = await demoInventory();
    const dir = await mkdtemp(join(tmpdir(), 'plexctl-login-'));
    try {
      const template = join(dir, 'login.ejs');
      await writeFile(template, '<h1><%= realm %></h1><% if (failed) { %>bad<% } %><input name="<%= usernameField %>">');
      inventory.apache = { ...inventory.apache, realm: 'a <b>', loginTemplate: template };
      const pages = renderFiles(inventory).filter((f) => f.kind === 'login-page').map((f) => f.content);
      assert.deepEqual(pages, ['<h1>a &lt;b&gt;</h1><input name="httpd_username">', '<h1>a &lt;b&gt;</h1>bad<input name="httpd_username">']);
      inventory.apache = { ...inventory.apache, loginTemplate: join(dir, 'missing.ejs') };
      assert.throws(() => renderFiles(inventory), /cannot read the login page template .*missing\.ejs \(ENOENT\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
