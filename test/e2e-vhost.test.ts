/**
 * The site inside a <VirtualHost> (issue #12, point 6), against a real Apache: with
 * apache.site_file, conf_file keeps only the server-wide part (the daemons) and the site's part
 * goes in a file the operator Includes inside a VirtualHost, so the site does not take over the
 * server's other sites; reconcile refuses to signal an Apache that does not load site_file.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { execa } from 'execa';
import { describeLive, inventoryYaml, startSite, type Site, type SiteSpec } from './helpers/e2e.js';

const spec: SiteSpec = {
  groups: { alpha: { settings: { GREETING: 'alpha' } }, beta: { settings: { GREETING: 'beta' } } },
  users: { alice: 'alpha', bob: 'beta' },
  apache: '  site_file: build/plex-site.conf\n',
};
const describeRun = (r: { exitCode: number; stdout: string; stderr: string }) => `exit ${r.exitCode}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;

/** A GET with its own Host header (fetch may not set one): node:http. */
function get(site: Site, host: string, path: string, user?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { host };
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: site.port, path, headers, timeout: 20000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

await describeLive('apache.site_file: the site inside a VirtualHost, the server\'s other sites left alone', { timeout: 180_000 }, () => {
  let site: Site | undefined;
  before(async () => {
    site = await startSite(spec);
  });
  after(async () => site?.stop());

  it('conf_file holds the daemons only; site_file the map, the WSGIScriptAlias and its <Directory>', async () => {
    const conf = await readFile(join(site!.dir, 'build/plex.conf'), 'utf8');
    const siteConf = await readFile(join(site!.dir, 'build/plex-site.conf'), 'utf8');
    assert.match(conf, /^WSGIDaemonProcess alpha /m);
    assert.match(conf, /^WSGIRestrictEmbedded On/m);
    assert.doesNotMatch(conf, /^(WSGIScriptAlias|RewriteMap|<Directory)/m);
    assert.match(siteConf, /^WSGIScriptAlias \/ /m);
    assert.match(siteConf, /^RewriteMap plexctl_procmap /m);
    assert.doesNotMatch(siteConf, /^WSGIDaemonProcess/m);
    assert.equal((await site!.get('alice')).body.group, 'alpha');
  });

  it('inside a VirtualHost: that host serves the site, another VirtualHost of the same server is untouched; reconcile checks site_file is loaded', async () => {
    const httpdConf = join(site!.dir, '.plexctl/serve/httpd.conf');
    const siteFile = join(site!.dir, 'build/plex-site.conf');
    const other = join(site!.dir, 'other-site');
    await mkdir(other);
    await writeFile(join(other, 'index.html'), 'the other site\n');
    const original = await readFile(httpdConf, 'utf8');
    const withHosts = original.replace(
      `Include "${siteFile}"`,
      [
        `<VirtualHost 127.0.0.1:${site!.port}>`,
        '    ServerName plex.test',
        `    Include "${siteFile}"`,
        '</VirtualHost>',
        `<VirtualHost 127.0.0.1:${site!.port}>`,
        '    ServerName other.test',
        `    DocumentRoot "${other}"`,
        `    <Directory "${other}">`,
        '        Require all granted',
        '    </Directory>',
        '</VirtualHost>',
      ].join('\n'),
    );
    assert.notEqual(withHosts, original, 'the private server includes site_file');
    await writeFile(httpdConf, withHosts);
    const graceful = await execa('/usr/sbin/apache2', ['-f', httpdConf, '-k', 'graceful'], { reject: false, all: true });
    assert.equal(graceful.exitCode, 0, graceful.all);
    // A group added needs a graceful restart: reconcile's checks pass with site_file in a VirtualHost.
    await writeFile(join(site!.dir, 'plex.yaml'), inventoryYaml({ ...spec, groups: { ...spec.groups, gamma: {} } }));
    const added = await site!.cli(['reconcile']);
    assert.equal(added.exitCode, 0, describeRun(added));

    const plex = await get(site!, 'plex.test', '/', 'alice');
    assert.equal(plex.status, 200, plex.text);
    assert.equal(JSON.parse(plex.text).group, 'alpha');
    assert.equal((await get(site!, 'plex.test', '/')).status, 401);
    const untouched = await get(site!, 'other.test', '/index.html');
    assert.equal(untouched.status, 200, 'the other VirtualHost needs no login and reaches no daemon');
    assert.equal(untouched.text, 'the other site\n');

    // The site's Include removed: a graceful restart would serve nobody; reconcile refuses and says where it goes.
    await writeFile(httpdConf, withHosts.replace(`    Include "${siteFile}"\n`, ''));
    await writeFile(join(site!.dir, 'plex.yaml'), inventoryYaml(spec));
    const refused = await site!.cli(['reconcile']);
    assert.equal(refused.exitCode, 1, describeRun(refused));
    assert.match(refused.stderr, new RegExp(`does not load ${siteFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(refused.stderr, /inside the <VirtualHost> that serves the site/);
  });
});
