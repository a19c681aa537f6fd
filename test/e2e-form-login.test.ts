/**
 * apache.auth: form, through a real Apache + mod_wsgi + Django: the login page, the encrypted
 * session cookie, revocation, key rotation, the closed open-redirect and login-CSRF holes; and a
 * real browser (Debian's chromium, headless, driven by playwright-core) logging in and out.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { describeLive, repoRoot, startSite, type Site } from './helpers/e2e.js';

const spec = {
  groups: {
    django1: { settings: { GREETING: 'one' } },
    django2: { settings: { GREETING: 'two' } },
  },
  users: { alice: 'django1', bob: 'django2', carol: 'django1', dave: 'django2' },
  apache: '  auth: form\n',
};

interface Answer {
  status: number;
  location: string | null;
  setCookie: string[];
  text: string;
  body: any;
}

async function send(url: string, init: { method?: string; cookie?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(20000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, location: response.headers.get('location'), setCookie: response.headers.getSetCookie(), text, body };
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/** `plexsess=...` from a response's Set-Cookie. */
function sessionCookie(answer: Answer): string {
  const line = answer.setCookie.find((c) => c.startsWith('plexsess='));
  assert.ok(line, `a session cookie is set: ${JSON.stringify(answer.setCookie)}`);
  return line.split(';')[0]!;
}

await describeLive('form login through a real Apache', { timeout: 240_000 }, () => {
  let site: Site | undefined;
  let base = '';
  const login = async (user: string, password = `${user}-pw`, r = '/') =>
    send(`${base}_plex/login?r=${encodeURIComponent(r).replaceAll('%2F', '/')}`, form({ httpd_username: user, httpd_password: password }));
  const loginCookie = async (user: string, password?: string) => {
    const answer = await login(user, password);
    assert.equal(answer.status, 302, answer.text);
    return sessionCookie(answer);
  };
  const isLoginRedirect = (answer: Answer) => answer.status === 302 && /^\/_plex\/login\?r=/.test(answer.location ?? '');

  before(async () => {
    site = await startSite(spec);
    base = site.url;
  });
  after(async () => site?.stop());

  it('sends a request without a session to the login page, carrying the page asked for, and serves the page itself from Apache', async (t) => {
    if (!site) return t.skip('no Apache');
    const deep = await send(`${base}deep/page?x=1`);
    assert.equal(deep.status, 302);
    assert.equal(deep.location, '/_plex/login?r=/deep/page');
    assert.deepEqual(deep.setCookie, [], 'no session for an anonymous request');
    const page = await send(`${base}_plex/login?r=/deep/page`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<title>Log in – plex test<\/title>/);
    assert.match(page.text, /<label for="username">User name<\/label>/);
    assert.match(page.text, /name="httpd_username"[^>]*autofocus/);
    assert.match(page.text, /<form method="post">/);
    assert.deepEqual(page.setCookie, [], 'the login page starts no session');
    // A file in a directory outside wsgi_dir: no daemon was asked.
    assert.equal(await readFile(join(site.dir, 'build', 'plex-login', 'login'), 'utf8'), page.text);
  });

  it('returns a wrong password to the login page with a message, and a right one to the page first asked for, in the user\'s group', async (t) => {
    if (!site) return t.skip('no Apache');
    for (const [user, password] of [['alice', 'wrong'], ['nobody', 'nobody-pw']] as const) {
      const wrong = await login(user, password, '/deep/page');
      assert.equal(wrong.status, 302);
      assert.equal(wrong.location, '/_plex/login-failed?r=/deep/page');
      assert.deepEqual(wrong.setCookie, []);
    }
    const failed = await send(`${base}_plex/login-failed?r=/deep/page`);
    assert.equal(failed.status, 200);
    assert.match(failed.text, /role="alert">Wrong user name or password/);

    const right = await login('alice', 'alice-pw', '/deep/page');
    assert.equal(right.status, 302);
    assert.equal(right.location, '/deep/page');
    const [line] = right.setCookie;
    assert.match(line!, /^plexsess=[^;]+;path=\/;HttpOnly;SameSite=Lax$/, 'HttpOnly, SameSite=Lax, the mount\'s path; no Max-Age (ends with the browser), no Secure without tls');
    const cookie = sessionCookie(right);
    const page = await send(`${base}deep/page`, { cookie: `theme=dark; ${cookie}; lang=en` });
    assert.equal(page.status, 200, page.text);
    assert.equal(page.body.group, 'django1');
    assert.equal(page.body.remote_user, 'alice');
    assert.equal(page.body.path, '/deep/page');
    assert.deepEqual(page.body.cookies, ['lang', 'theme'], 'Django never sees the session cookie');
    assert.deepEqual(page.setCookie, [], 'no new cookie on every response (idle_update)');
    const bob = await send(base, { cookie: await loginCookie('bob') });
    assert.equal(bob.body.group, 'django2');
  });

  it('refuses a tampered, truncated or forged cookie: the login page', async (t) => {
    if (!site) return t.skip('no Apache');
    const cookie = await loginCookie('alice');
    const value = cookie.slice('plexsess='.length);
    const middle = Math.floor(value.length / 2);
    const flipped = value.slice(0, middle) + (value[middle] === 'A' ? 'B' : 'A') + value.slice(middle + 1);
    const forged = [
      `plexsess=${flipped}`,
      `plexsess=${value.slice(0, value.length - 12)}`,
      'plexsess=private:user=alice',
      'plexsess=plex%20test-user=alice&plex%20test-pw=alice-pw',
      `plexsess=${Buffer.from('plex test-user=alice&plex test-pw=alice-pw').toString('base64')}`,
      'plexsess=',
    ];
    for (const bad of forged) {
      const answer = await send(base, { cookie: bad });
      assert.ok(isLoginRedirect(answer), `${bad}: ${answer.status} ${answer.location}`);
    }
    assert.equal((await send(base, { cookie })).status, 200, 'the genuine cookie still works');
  });

  it('follows only a local path after login: //host, /\\host and absolute URLs land on the mount, and a posted location is ignored', async (t) => {
    if (!site) return t.skip('no Apache');
    for (const r of ['//evil.example', '/\\evil.example', 'http://evil.example/', 'https://evil.example', 'evil.example', '/%2F/evil.example&r=//evil.example']) {
      const answer = await send(`${base}_plex/login?r=${r}`, form({ httpd_username: 'alice', httpd_password: 'alice-pw' }));
      assert.equal(answer.status, 302);
      assert.equal(answer.location, '/', r);
    }
    const posted = await send(`${base}_plex/login?r=/x`, form({ httpd_username: 'alice', httpd_password: 'alice-pw', httpd_location: '//evil.example', plexctl_no_inline_login: '//evil.example' }));
    assert.equal(posted.location, '/x');
  });

  it('never treats a POST to a site URL as a login, refuses a cross-site login, and passes a logged-in POST body to Django intact', async (t) => {
    if (!site) return t.skip('no Apache');
    const posts: Record<string, string>[] = [
      { httpd_username: 'alice', httpd_password: 'alice-pw' },
      { plexctl_no_inline_login: 'alice' },
      { httpd_username: 'alice', httpd_password: 'alice-pw', httpd_location: '//evil.example' },
    ];
    for (const fields of posts) {
      const inline = await send(`${base}some/form`, form(fields));
      assert.ok(isLoginRedirect(inline), `${JSON.stringify(fields)}: ${inline.status} ${inline.location}`);
      assert.deepEqual(inline.setCookie, [], 'no session was made');
    }
    const crossSite = await send(`${base}_plex/login`, { ...form({ httpd_username: 'alice', httpd_password: 'alice-pw' }), headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' } });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(crossSite.setCookie, []);

    const cookie = await loginCookie('alice');
    const urlencoded = new URLSearchParams({ httpd_username: 'mallory', httpd_password: 'x', note: 'é&='.repeat(2000) }).toString();
    const json = JSON.stringify({ hello: 'world', list: [1, 2, 3] });
    for (const [body, type] of [[urlencoded, 'application/x-www-form-urlencoded'], [json, 'application/json']] as const) {
      const answer = await send(`${base}some/form`, { method: 'POST', cookie, body, headers: { 'content-type': type } });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.method, 'POST');
      assert.equal(answer.body.remote_user, 'alice', 'the posted user fields changed nothing');
      assert.equal(answer.body.body_length, Buffer.byteLength(body));
      assert.equal(answer.body.body_sha256, createHash('sha256').update(body).digest('hex'));
    }
  });

  it('gives 403 to a user who logs in but has no map entry', async (t) => {
    if (!site) return t.skip('no Apache');
    const htpasswd = join(site.dir, 'build', 'htpasswd');
    const text = await readFile(htpasswd, 'utf8');
    const aliceHash = text.split('\n').find((l) => l.startsWith('alice:'))!.slice('alice:'.length);
    await writeFile(htpasswd, `${text}mallory:${aliceHash}\n`);
    try {
      const cookie = await loginCookie('mallory', 'alice-pw');
      const answer = await send(base, { cookie });
      assert.equal(answer.status, 403, answer.text);
    } finally {
      await writeFile(htpasswd, text);
    }
  });

  it('ends the session at logout, and revokes at once after `user passwd` or `user remove`', async (t) => {
    if (!site) return t.skip('no Apache');
    const cookie = await loginCookie('alice');
    const out = await send(`${base}_plex/logout`, { cookie });
    assert.equal(out.status, 307);
    assert.equal(out.location, '/_plex/login');
    const replaced = sessionCookie(out);
    assert.match(out.setCookie[0]!, /;Max-Age=1;/);
    assert.ok(isLoginRedirect(await send(base, { cookie: replaced })), 'the cookie logout leaves is no session');

    const bobs = await loginCookie('bob');
    assert.equal((await send(base, { cookie: bobs })).status, 200);
    const passwd = await site.cli(['user', 'passwd', 'bob', '--password-stdin'], 'bob-new-pw\n');
    assert.equal(passwd.exitCode, 0, passwd.stderr);
    assert.ok(isLoginRedirect(await send(base, { cookie: bobs })), 'a cookie from before `user passwd` is refused at the next request');
    assert.equal((await send(base, { cookie: await loginCookie('bob', 'bob-new-pw') })).status, 200);

    const carols = await loginCookie('carol');
    assert.equal((await send(base, { cookie: carols })).body.group, 'django1');
    const removed = await site.cli(['user', 'remove', 'carol']);
    assert.equal(removed.exitCode, 0, removed.stderr);
    assert.ok(isLoginRedirect(await send(base, { cookie: carols })), 'a cookie from before `user remove` is refused at the next request');
  });

  it('keeps the session key across renders (0600, never shown), and after one `session rotate-key` still accepts the old cookie, not after two', async (t) => {
    if (!site) return t.skip('no Apache');
    const keyFile = join(site.dir, 'build', 'plex.conf.session-key');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const key = await readFile(keyFile, 'utf8');
    const passphrase = /SessionCryptoPassphrase (\S+)/.exec(key)![1]!;
    const rendered = await site.cli(['render']);
    assert.equal(rendered.exitCode, 0, rendered.stderr);
    assert.equal(await readFile(keyFile, 'utf8'), key, 'render keeps a usable key');
    const plan = await site.cli(['plan', '--diff', '--json']);
    assert.equal(plan.exitCode, 0, plan.stdout);
    assert.ok(!plan.stdout.includes(passphrase) && !rendered.stdout.includes(passphrase));

    const old = await loginCookie('alice');
    const first = await site.cli(['session', 'rotate-key']);
    assert.equal(first.exitCode, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /graceful restart/);
    assert.ok(!first.stdout.includes(passphrase));
    const rotated = await readFile(keyFile, 'utf8');
    assert.match(rotated, new RegExp(`^SessionCryptoPassphrase \\S+ ${passphrase}$`, 'm'), 'the new passphrase first, the old one kept');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.equal((await send(base, { cookie: old })).status, 200, 'nobody is logged out by one rotation');
    const newer = await loginCookie('alice');
    assert.equal((await site.cli(['plan'])).exitCode, 0, 'plan keeps the rotated key');

    const second = await site.cli(['session', 'rotate-key']);
    assert.equal(second.exitCode, 0, second.stderr + second.stdout);
    assert.ok(isLoginRedirect(await send(base, { cookie: old })), 'after two rotations the first key no longer decrypts');
    assert.equal((await send(base, { cookie: newer })).status, 200, 'a cookie made after the first rotation still works');
  });
});

/** Debian's chromium; never a downloaded browser. */
const chromiumPath = '/usr/bin/chromium';

// Decided before the suite is declared (a suite cannot skip itself on Node 20): without chromium
// the suite is skipped with the reason, and under CI=true it fails.
const chromiumPresent = await access(chromiumPath).then(() => true, () => false);
const noChromium = `not installed: ${chromiumPath} (apt-get install -y chromium)`;
await describeLive('form login in a real browser (headless chromium)', { timeout: 180_000, ...(chromiumPresent || process.env.CI === 'true' ? {} : { skip: noChromium }) }, () => {
  let site: Site | undefined;

  before(async () => {
    if (!chromiumPresent) throw new Error(`the browser test needs ${chromiumPath}; CI must install it (.ci/run installs the package chromium)`);
    site = await startSite({ groups: spec.groups, users: { alice: 'django1', bob: 'django2' }, apache: spec.apache });
  });
  after(async () => site?.stop());

  it('opens a deep page, logs in (a wrong password first), stays in across a reload, and logs out', async (t) => {
    if (!site) return t.skip(`no Apache or no ${chromiumPath}`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      await page.goto(`${site.url}deep/page`);
      assert.match(new URL(page.url()).pathname + new URL(page.url()).search, /^\/_plex\/login\?r=\/deep\/page$/);
      assert.equal(await page.title(), 'Log in – plex test');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'username', 'the user name field has the focus');
      await mkdir(join(repoRoot, 'docs'), { recursive: true });
      await page.screenshot({ path: join(repoRoot, 'docs', 'login-page.png') });

      await page.getByLabel('User name').fill('alice');
      await page.getByLabel('Password').fill('wrong');
      await Promise.all([page.waitForURL(/login-failed/), page.getByRole('button', { name: 'Log in' }).click()]);
      assert.match(await page.getByRole('alert').innerText(), /Wrong user name or password/);

      await page.getByLabel('User name').fill('alice');
      await page.getByLabel('Password').fill('alice-pw');
      await Promise.all([page.waitForURL(/\/deep\/page$/), page.getByRole('button', { name: 'Log in' }).click()]);
      const served = JSON.parse(await page.innerText('body'));
      assert.equal(served.group, 'django1');
      assert.equal(served.remote_user, 'alice');
      assert.equal(served.path, '/deep/page');
      const [cookie] = await page.context().cookies();
      assert.equal(cookie?.name, 'plexsess');
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Lax');
      assert.equal(cookie?.expires, -1, 'a session cookie: gone when the browser closes');

      await page.reload();
      assert.equal(JSON.parse(await page.innerText('body')).remote_user, 'alice', 'still logged in after a reload');

      await page.goto(`${site.url}_plex/logout`);
      assert.equal(new URL(page.url()).pathname, '/_plex/login');
      await page.goto(`${site.url}deep/page`);
      assert.equal(new URL(page.url()).pathname, '/_plex/login', 'logged out: the login page again');
    } finally {
      await browser.close();
    }
  });
});

await describeLive('switching an inventory from basic to form and back: one reconcile each, no failed request', { timeout: 180_000 }, () => {
  const basic = { groups: spec.groups, users: { alice: 'django1', bob: 'django2' } };
  let site: Site | undefined;
  before(async () => {
    site = await startSite(basic);
  });
  after(async () => site?.stop());

  /** Requests (Basic credentials, no session) until stopped; every answer that is not 200, 302 or 401 is a failure. */
  function requestLoop(): { stop(): Promise<{ failures: string[]; counts: Record<string, number> }> } {
    let stopped = false;
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    const auth = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
    const loop = (async () => {
      while (!stopped) {
        // A graceful restart closes idle keep-alive connections; a GET sent on one just then fails
        // at the connection and is retried once, as HTTP clients do for idempotent requests
        // (RFC 9110 9.2.2). Any answer but 200, 302 or 401, or a second failure, is a failure.
        const get = () => send(site!.url, { headers: { authorization: auth } }).then((a) => a.status, (e: Error) => `error ${e.message}`);
        let status: number | string = await get();
        if (typeof status === 'string') {
          counts.retried = (counts.retried ?? 0) + 1;
          status = await get();
        }
        counts[String(status)] = (counts[String(status)] ?? 0) + 1;
        // A 5xx or a connection dropped (after one retry) during the graceful restart: the open
        // bug. mod_wsgi 4.9.4 answers 503 when an old Apache child connects to a daemon socket the
        // parent has already unlinked (ENOENT is not retried, only ECONNREFUSED), and 500
        // ("Truncated or oversized response headers") when a daemon stopping on SIGTERM drops a
        // connection it had not read yet.
        if ((typeof status === 'number' && status >= 500) || typeof status === 'string') unavailable.push(String(status));
        else if (![200, 302, 401].includes(status as number)) failures.push(String(status));
      }
    })();
    return {
      async stop() {
        stopped = true;
        await loop;
        return { failures, counts };
      },
    };
  }

  // Requests lost while switching: a graceful restart run by reconcile can still answer one
  // request 503 ("Unable to connect to WSGI daemon process") or drop its connection, a known open
  // bug (the issue of real Django projects, point 7): counted apart, asserted by the todo below.
  const unavailable: string[] = [];

  it('basic -> form -> basic: each one reconcile; no request fails but those the graceful restart loses (5xx or a dropped connection)', async () => {
    const { inventoryYaml } = await import('./helpers/e2e.js');
    const auth = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
    assert.equal((await send(site!.url, { headers: { authorization: auth } })).status, 200);

    let loop = requestLoop();
    await writeFile(join(site!.dir, 'plex.yaml'), inventoryYaml({ ...basic, apache: '  auth: form\n' }));
    const toForm = await site!.cli(['reconcile']);
    let seen = await loop.stop();
    assert.equal(toForm.exitCode, 0, toForm.stderr + toForm.stdout);
    assert.deepEqual(seen.failures, [], `no failed request while switching to form (${JSON.stringify(seen.counts)})`);
    const sessionKey = join(site!.dir, 'build', 'plex.conf.session-key');
    assert.ok(existsSync(sessionKey), 'auth: form made the session key');
    const anonymous = await send(`${site!.url}deep/page`);
    assert.equal(anonymous.status, 302);
    assert.match(anonymous.location ?? '', /^\/_plex\/login\?r=/);
    const loggedIn = await send(`${site!.url}_plex/login?r=/`, form({ httpd_username: 'alice', httpd_password: 'alice-pw' }));
    assert.equal(loggedIn.status, 302, loggedIn.text);
    const cookie = sessionCookie(loggedIn);
    assert.equal((await send(site!.url, { cookie })).body?.group, 'django1');

    loop = requestLoop();
    await writeFile(join(site!.dir, 'plex.yaml'), inventoryYaml(basic));
    const toBasic = await site!.cli(['reconcile']);
    seen = await loop.stop();
    assert.equal(toBasic.exitCode, 0, toBasic.stderr + toBasic.stdout);
    assert.deepEqual(seen.failures, [], `no failed request while switching back to basic (${JSON.stringify(seen.counts)})`);
    const back = await send(site!.url, { headers: { authorization: auth } });
    assert.equal(back.status, 200);
    assert.equal(back.body?.group, 'django1');
    // The session key guarded sessions that no longer exist: a secret left behind is one to guard for nothing.
    assert.ok(!existsSync(sessionKey), 'back to basic, the session key is deleted');
    assert.match(toBasic.stdout + toBasic.stderr, /session-key/);
  });

  it('only a few requests, all during the restart, are lost to it', () => {
    // The open bug loses a handful of requests at each restart; more is a regression.
    assert.ok(unavailable.length <= 20, `${unavailable.length} request(s) lost: ${unavailable.join(', ')}`);
  });

  it('and no request lost during the graceful restarts', { todo: 'open: a graceful restart of Apache can answer a request 503 or 500, or drop it (mod_wsgi 4.9.4)' }, () => {
    assert.deepEqual(unavailable, [], `${unavailable.length} request(s) lost (503 or connection) while Apache restarted gracefully`);
  });
});
