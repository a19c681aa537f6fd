/**
 * A real Django project, unmodified (issue #12, point 8): made at test time by
 * `django-admin startproject` (Django's own template, settings.py untouched), served by a real
 * Apache to three users in three groups with site.database: sqlite, site.init: migrate and
 * site.static. A superuser made with `plexctl manage` in one instance logs in to the admin with
 * CSRF as a browser does and sees its CSS; the other instances know nothing of it. A second
 * project sits in another group behind the same URL. A new instance whose init fails is never
 * routed to; a rerun completes it; a released instance is initialised afresh.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { execa } from 'execa';
import { describeLive, freePort, makeTempDir, plexctl, testAccountPrefix, type CliResult } from './helpers/e2e.js';
import { rm } from 'node:fs/promises';

const describeRun = (r: CliResult) => `exit ${r.exitCode}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;

function inventory(extraGroups = '', extraUsers = '', extraSite = ''): string {
  return `site:
${extraSite}
  account_prefix: ${testAccountPrefix}
  python_path: [proj]
  settings_module: mysite.settings
  database: sqlite
  init: [[migrate, --noinput]]
  static: {url: /static/, dir: static}
apache:
  conf_file: build/plex.conf
  wsgi_dir: build/wsgi
  user_file: build/htpasswd
  realm: "django project test"
  pid_file: .plexctl/serve/run/httpd.pid
  ctl: [/usr/sbin/apache2, -f, .plexctl/serve/httpd.conf]
defaults:
  daemon: {processes: 1, threads: 3}
groups:
  g1:
  g2:
  g3:
    settings_module: other.settings
    python_path: [proj2]
${extraGroups}users:
  alice: g1
  bob: g2
  carol: g3
${extraUsers}`;
}

/** A cookie jar of name=value pairs, filled from Set-Cookie. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

let dir = '';
let url = '';
const cli = (args: string[], input?: string, env?: Record<string, string>) => plexctl(args, { cwd: dir, ...(input !== undefined ? { input } : {}), ...(env ? { env } : {}) });

async function request(path: string, options: { user?: string; jar?: Jar; form?: Record<string, string> } = {}): Promise<{ status: number; text: string; location: string | null; type: string | null }> {
  const headers: Record<string, string> = {};
  if (options.user) headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.user}-pw`).toString('base64')}`;
  if (options.jar && options.jar.cookies.size > 0) headers.cookie = options.jar.header();
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${url}${path.replace(/^\//, '')}`, { method: body ? 'POST' : 'GET', headers, ...(body ? { body } : {}), redirect: 'manual', signal: AbortSignal.timeout(30000) });
  options.jar?.take(response);
  return { status: response.status, text: await response.text(), location: response.headers.get('location'), type: response.headers.get('content-type') };
}

const csrfToken = (html: string) => /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html)?.[1];

/** Log in to Django's admin as a browser does: the login form's CSRF token and cookie, then the POST. */
async function adminLogin(user: string, username: string, password: string): Promise<{ jar: Jar; status: number; location: string | null; text: string }> {
  const jar = new Jar();
  const page = await request('/admin/login/?next=/admin/', { user, jar });
  assert.equal(page.status, 200, page.text.slice(0, 500));
  const token = csrfToken(page.text);
  assert.ok(token, 'the login form carries a CSRF token');
  assert.ok(jar.cookies.has('csrftoken'));
  const posted = await request('/admin/login/?next=/admin/', { user, jar, form: { csrfmiddlewaretoken: token!, username, password, next: '/admin/' } });
  return { jar, ...posted };
}

async function pythonIn(group: string, code: string): Promise<string> {
  const r = await cli(['manage', group, '--', 'shell', '-c', code]);
  assert.equal(r.exitCode, 0, describeRun(r));
  return r.stdout.trim();
}

await describeLive('an unmodified django-admin startproject project behind plexctl', { timeout: 420_000 }, () => {
  before(async () => {
    dir = await makeTempDir();
    for (const [name, into] of [['mysite', 'proj'], ['other', 'proj2']] as const) {
      await mkdir(join(dir, into));
      await execa('/usr/bin/django-admin', ['startproject', name, join(dir, into)]);
    }
    await writeFile(join(dir, 'plex.yaml'), inventory());
    for (const user of ['alice', 'bob', 'carol']) {
      const r = await cli(['user', 'passwd', user, '--password-stdin'], `${user}-pw\n`);
      assert.equal(r.exitCode, 0, describeRun(r));
    }
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const served = await cli(['serve', '--detach', '--port', String(port)]);
    assert.equal(served.exitCode, 0, describeRun(served));
    // Each new instance was migrated before Apache routed anyone to it.
    for (const g of ['g1', 'g2', 'g3']) assert.match(served.stdout, new RegExp(`initialised ${g}: migrate --noinput`));
  });
  after(async () => {
    if (dir) {
      await cli(['serve', '--stop']);
      if (process.env.PLEXCTL_TEST_KEEP !== '1') await rm(dir, { recursive: true, force: true });
    }
  });

  it('settings.py is Django\'s own, untouched: the database and static settings come from the inventory', async () => {
    const settings = await readFile(join(dir, 'proj', 'mysite', 'settings.py'), 'utf8');
    assert.match(settings, /BASE_DIR \/ 'db\.sqlite3'/, 'the template\'s own database setting is still there');
    assert.equal(await pythonIn('g1', 'from django.conf import settings; print(settings.DATABASES["default"]["NAME"])'), join(dir, 'data', 'g1', 'db.sqlite3'));
    assert.equal(await pythonIn('g1', 'from django.conf import settings; print(settings.STATIC_ROOT)'), join(dir, 'static'));
    const plan = await cli(['plan']);
    assert.equal(plan.exitCode, 0, describeRun(plan));
  });

  it('collectstatic fills site.static.dir; Apache serves the admin\'s CSS itself, to anyone', async () => {
    assert.ok([403, 404].includes((await request('/static/admin/css/base.css')).status), 'nothing collected yet (no directory: 403)');
    const collected = await cli(['collectstatic']);
    assert.equal(collected.exitCode, 0, describeRun(collected));
    assert.match(collected.stdout, /\d+ static files in .*static/);
    const css = await request('/static/admin/css/base.css');
    assert.equal(css.status, 200);
    assert.match(css.type ?? '', /text\/css/);
  });

  it('a superuser made with `plexctl manage` logs in to the admin of its own instance, with CSRF, and sees its CSS', async () => {
    const made = await cli(['manage', 'g1', '--env', 'DJANGO_SUPERUSER_PASSWORD', '--', 'createsuperuser', '--noinput', '--username', 'admin', '--email', 'admin@example.org'], undefined, { DJANGO_SUPERUSER_PASSWORD: 'admin-pw-123' });
    assert.equal(made.exitCode, 0, describeRun(made));
    const login = await adminLogin('alice', 'admin', 'admin-pw-123');
    assert.equal(login.status, 302, login.text.slice(0, 800));
    assert.equal(login.location, '/admin/');
    assert.ok(login.jar.cookies.has('sessionid'));
    const home = await request('/admin/', { user: 'alice', jar: login.jar });
    assert.equal(home.status, 200);
    assert.match(home.text, /Site administration/);
    const stylesheet = /href="(\/static\/admin\/css\/[^"]+\.css)"/.exec(home.text)?.[1];
    assert.ok(stylesheet, 'the admin page links its CSS under site.static.url');
    assert.equal((await request(stylesheet!)).status, 200);

    // An object made through the admin lives in this instance's database only.
    const add = await request('/admin/auth/group/add/', { user: 'alice', jar: login.jar });
    const saved = await request('/admin/auth/group/add/', { user: 'alice', jar: login.jar, form: { csrfmiddlewaretoken: csrfToken(add.text)!, name: 'editors', _save: 'Save' } });
    assert.equal(saved.status, 302, saved.text.slice(0, 800));
    assert.equal(await pythonIn('g1', 'from django.contrib.auth.models import Group; print(Group.objects.filter(name="editors").count())'), '1');
  });

  it('the other instances know neither that superuser nor the objects made through it', async () => {
    assert.equal(await pythonIn('g2', 'from django.contrib.auth.models import User, Group; print(User.objects.count(), Group.objects.count())'), '0 0');
    const login = await adminLogin('bob', 'admin', 'admin-pw-123');
    assert.equal(login.status, 200, 'the login form again');
    assert.match(login.text, /Please enter the correct username and password/);
  });

  it('two distinct projects behind the same URL: each group imports its own settings module', async () => {
    // DEBUG is on in Django's template: a 404 page names the URLconf that answered.
    const alice = await request('/no/such/page/', { user: 'alice' });
    const carol = await request('/no/such/page/', { user: 'carol' });
    assert.equal(alice.status, 404);
    assert.equal(carol.status, 404);
    assert.match(alice.text, /mysite\.urls/);
    assert.match(carol.text, /other\.urls/);
    assert.equal(await pythonIn('g3', 'import os; print(os.environ["DJANGO_SETTINGS_MODULE"])'), 'other.settings');
  });

  it('a new instance whose init fails is never routed to (503); a rerun after the fix completes it', async () => {
    await writeFile(join(dir, 'plex.yaml'), inventory('  g4:\n    settings: {INSTALLED_APPS: [no_such_app]}\n', '  dave: g4\n'));
    assert.equal((await cli(['user', 'passwd', 'dave', '--password-stdin'], 'dave-pw\n')).exitCode, 0);
    const failed = await cli(['reconcile']);
    assert.equal(failed.exitCode, 1, describeRun(failed));
    assert.match(failed.stderr, /site\.init failed in g4/);
    assert.match(failed.stderr, /`migrate --noinput` exited 1/);
    const plan = await cli(['plan']);
    assert.match(plan.stdout, /initialise group g4/);
    const dave = await request('/admin/login/', { user: 'dave' });
    assert.equal(dave.status, 503);
    assert.match(dave.text, /not available right now/);
    assert.equal((await request('/admin/login/', { user: 'alice' })).status, 200, 'the other instances serve on');

    await writeFile(join(dir, 'plex.yaml'), inventory('  g4:\n', '  dave: g4\n'));
    const fixed = await cli(['reconcile']);
    assert.equal(fixed.exitCode, 0, describeRun(fixed));
    assert.match(fixed.stdout, /initialised g4/);
    assert.equal((await request('/admin/login/', { user: 'dave' })).status, 200);
  });

  it('a released instance is initialised afresh for its next tenant: nothing of the last one\'s data', async () => {
    const removed = await cli(['user', 'remove', 'alice']);
    assert.equal(removed.exitCode, 0, describeRun(removed));
    // Released, then initialised at once on its fresh directory: ready for the next tenant.
    assert.match(removed.stdout, /released g1/);
    assert.match(removed.stdout, /initialised g1: migrate --noinput/);
    const added = await cli(['user', 'add', 'erin', '--group', 'g1', '--password-stdin'], 'erin-pw\n');
    assert.equal(added.exitCode, 0, describeRun(added));
    assert.match(added.stdout, /restart\s+not needed/, 'a ready group: nothing to restart');
    assert.equal(await pythonIn('g1', 'from django.contrib.auth.models import User, Group; print(User.objects.count(), Group.objects.count())'), '0 0');
    assert.equal((await request('/admin/login/', { user: 'erin' })).status, 200);
  });

  it('site.remote_user: the Apache login is the Django login, the user made in that instance\'s database only', async () => {
    await writeFile(join(dir, 'plex.yaml'), inventory('  g4:\n', '  dave: g4\n', '  remote_user: true\n').replace('  alice: g1\n', '  erin: g1\n'));
    const switched = await cli(['reconcile']);
    assert.equal(switched.exitCode, 0, describeRun(switched));
    const page = await request('/admin/', { user: 'erin' });
    // Known to Django now (logged in by REMOTE_USER), but not staff: the admin sends it to its login.
    assert.equal(page.status, 302);
    assert.equal(await pythonIn('g1', 'from django.contrib.auth.models import User; print([u.username for u in User.objects.all()])'), "['erin']");
    assert.equal(await pythonIn('g2', 'from django.contrib.auth.models import User; print(User.objects.filter(username="erin").count())'), '0');
  });
});
