/**
 * `npm run demo`: serve examples/demo on a private Apache at 127.0.0.1:8080 (PLEXCTL_DEMO_PORT),
 * three users in three process groups. On a fresh Debian machine, as root, it first installs the
 * packages it needs; as another user it prints the apt-get line. `--detach` returns at once
 * (stop with `npm run demo:stop`).
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.js';
import { aptGetLine, debianPackages, findMissing } from '../apache/prerequisites.js';
import { serverPaths, stopServer } from '../apache/private-server.js';
import { main } from '../cli.js';
import { loadInventory } from '../inventory/load.js';
import { setPassword } from '../lifecycle/passwords.js';

const demoDir = resolve(fileURLToPath(import.meta.url), '../../../../examples/demo');
const inventoryFile = join(demoDir, 'plex.yaml');
const port = process.env.PLEXCTL_DEMO_PORT ?? '8080';
const passwordOf = (user: string) => `${user}-secret`;

async function installPrerequisites(): Promise<boolean> {
  const missing = await findMissing();
  if (missing.length === 0) return true;
  console.log(`The demo needs: ${missing.map((m) => m.what).join(', ')}.`);
  if (process.getuid?.() !== 0) {
    console.log(`Install them as root, then run this again:\n  ${aptGetLine}`);
    return false;
  }
  console.log(`Installing with apt-get (running as root): ${debianPackages.join(' ')}`);
  await exec('apt-get', ['update'], { stdio: 'inherit' });
  await exec('apt-get', ['install', '-y', ...debianPackages], { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } });
  return (await findMissing()).length === 0;
}

async function demo(): Promise<number> {
  if (!(await installPrerequisites())) return 1;
  const inventory = await loadInventory(inventoryFile);
  for (const { user } of inventory.users) await setPassword(inventory, user, passwordOf(user));
  await stopServer(serverPaths(demoDir));
  const code = await main([process.argv[0]!, 'plexctl', '-i', inventoryFile, 'serve', '--detach', '--port', port]);
  if (code !== 0) return code;
  console.log('\nTry it: each user is served by their own process group (see "group" and "GREETING"):');
  if (inventory.apache.auth === 'form') {
    console.log(`  open http://127.0.0.1:${port}/ in a browser and log in as ${inventory.users.map(({ user }) => `${user} / ${passwordOf(user)}`).join(', ')}`);
    console.log(`  log out at http://127.0.0.1:${port}${inventory.apache.authPath}logout`);
    console.log(`  curl -i http://127.0.0.1:${port}/            # no session: 302 to the login page`);
    const [first, second] = inventory.users;
    if (first && second) {
      const login = (u: string) => `curl -s -c /tmp/${u}.jar -o /dev/null -d httpd_username=${u} -d httpd_password=${passwordOf(u)} http://127.0.0.1:${port}${inventory.apache.authPath}login`;
      console.log(`\nEach instance has its own database: ${first.user} adds a note, ${second.user} does not see it:`);
      console.log(`  ${login(first.user)}`);
      console.log(`  curl -s -b /tmp/${first.user}.jar -d text=hello http://127.0.0.1:${port}/notes/`);
      console.log(`  ${login(second.user)}`);
      console.log(`  curl -s -b /tmp/${second.user}.jar http://127.0.0.1:${port}/notes/`);
    }
  } else {
    for (const { user } of inventory.users) console.log(`  curl -u ${user}:${passwordOf(user)} http://127.0.0.1:${port}/`);
    console.log(`  curl -i http://127.0.0.1:${port}/            # no credentials: 401`);
  }
  console.log(`\nSee the daemons: ps -eo pid,ppid,args | grep wsgi:`);
  console.log(`The inventory: ${inventoryFile}`);
  if (process.argv.includes('--detach')) {
    console.log('Stop it with: npm run demo:stop');
    return 0;
  }
  console.log('Press Ctrl-C to stop it.');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  const { stopped } = await stopServer(serverPaths(demoDir));
  console.log(`\nStopped the demo's Apache (pid ${stopped}).`);
  return 0;
}

process.exitCode = await demo();
