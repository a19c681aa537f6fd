/**
 * Edits of the inventory's users: mapping keep every other byte of the file: comments, blank
 * lines, key order, quoting and flow maps elsewhere.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument, isMap, isScalar } from 'yaml';
import { UserError } from '../src/errors.js';
import { removeUser, setUserGroup } from '../src/inventory/edit.js';
import { validateInventoryText } from '../src/inventory/validate.js';

const demoPath = fileURLToPath(new URL('../../examples/demo/plex.yaml', import.meta.url));
const demo = readFileSync(demoPath, 'utf8');

const head = `# hand-written inventory
site: {settings_module: demo.settings}   # flow map, kept as is

apache:
  conf_file: 'build/plex.conf'
  wsgi_dir: "build/wsgi"
  user_file: build/htpasswd
`;
const groups = `groups:
  g1:
    env: {DEMO_DB: x}
  g2: ~
`;

/** Hand-written inventories, each a users: shape. */
const variants: Record<string, { text: string; users: [string, string][] }> = {
  demo: { text: demo, users: [['alice', 'django1'], ['bob', 'django2'], ['carol', 'django3']] },
  'comments between entries': {
    text: `${head}${groups}
users:    # who is where
  # staff
  alice: g1     # admin

  # students
  bob:   "g2"
  # carol: g1  (left in May)

# end of file
`,
    users: [['alice', 'g1'], ['bob', 'g2']],
  },
  'users in the middle, another key after it': {
    text: `${head}users:
  alice: g1
  bob: g2
${groups}`,
    users: [['alice', 'g1'], ['bob', 'g2']],
  },
  'users last, no trailing newline': {
    text: `${head}${groups}users:\n  alice: g1`,
    users: [['alice', 'g1']],
  },
  'flow users': { text: `${head}${groups}users: {alice: g1}\n`, users: [['alice', 'g1']] },
  'flow users, two entries, comment': { text: `${head}${groups}users: {alice: g1, bob: g2}   # flow\n`, users: [['alice', 'g1'], ['bob', 'g2']] },
  'users missing': { text: `${head}${groups}`, users: [] },
  'users missing, no trailing newline': { text: `${head}${groups.trimEnd()}`, users: [] },
  'users: {}': { text: `${head}${groups}users: {}\n`, users: [] },
  'users: {} with a comment': { text: `${head}users: {}       # nobody yet\n${groups}`, users: [] },
  'users: (null)': { text: `${head}${groups}users:\n`, users: [] },
  'users: ~ with a comment': { text: `${head}users: ~   # nobody yet\n${groups}`, users: [] },
};

function usersOf(text: string): [string, string][] {
  const { inventory, problems } = validateInventoryText('/srv/plex/plex.yaml', text);
  assert.deepEqual(problems, [], text);
  return inventory!.users.map(({ user, group }) => [user, group]);
}

/** `after` is `before` with exactly one line inserted; returns that line. */
function insertedLine(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length + 1, after);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  assert.deepEqual([...b.slice(0, i), ...b.slice(i + 1)], a);
  return b[i]!;
}

/** The lines that differ between two texts of the same number of lines. */
function changedLines(before: string, after: string): [string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]!] as [string, string]]));
}

/** The first group of the inventory that is not `current`. */
function otherGroup(text: string, current: string | undefined): string {
  const names = ['django1', 'django2', 'django3', 'g1', 'g2'].filter((g) => new RegExp(`^  ${g}:`, 'm').test(text));
  return names.find((g) => g !== current)!;
}

describe('inventory edit', () => {
  for (const [name, { text, users }] of Object.entries(variants)) {
    describe(name, () => {
      const group = otherGroup(text, undefined);

      it('reads as the expected users before any edit', () => {
        assert.deepEqual(usersOf(text), users);
      });

      it('adds a user at the end, and removing it restores the text', () => {
        const added = setUserGroup(text, 'dave', group);
        assert.deepEqual(usersOf(added), [...users, ['dave', group]]);
        const removed = removeUser(added, 'dave');
        assert.deepEqual(usersOf(removed), users);
        if (users.length > 0 || name === 'users: {}' || name.startsWith('users: {} ')) {
          assert.equal(removed, text);
        }
        if (users.length > 0 && !name.startsWith('flow')) {
          assert.equal(insertedLine(text, added), `  dave: ${group}`);
        }
      });

      if (users.length > 0) {
        it('moves a user by changing only its value', () => {
          const [user, current] = users[0]!;
          const target = otherGroup(text, current);
          const moved = setUserGroup(text, user, target);
          const changes = changedLines(text, moved);
          assert.equal(changes.length, 1);
          const [oldLine, newLine] = changes[0]!;
          const oldValue = current === 'g2' && oldLine.includes('"g2"') ? '"g2"' : current;
          assert.equal(newLine, oldLine.replace(`: ${oldValue}`, `: ${target}`));
          assert.deepEqual(
            usersOf(moved),
            users.map(([u, g]) => [u, u === user ? target : g]),
          );
          assert.equal(setUserGroup(moved, user, current), text);
        });

        it('removes a user by deleting only its entry', () => {
          const [user] = users[0]!;
          const removed = removeUser(text, user);
          assert.deepEqual(
            usersOf(removed),
            users.filter(([u]) => u !== user),
          );
          if (!name.startsWith('flow') && users.length > 1) {
            assert.equal(insertedLine(removed, text).trimStart().startsWith(`${user}:`), true);
          }
        });

        it('removes every user, leaving an empty users mapping', () => {
          let current = text;
          for (const [user] of users) current = removeUser(current, user);
          assert.deepEqual(usersOf(current), []);
          assert.match(current, /^users: \{\}/m);
        });
      }
    });
  }

  it('keeps the demo file byte for byte around an added user', () => {
    const added = setUserGroup(demo, 'dave', 'django2');
    assert.equal(added, demo.replace('  carol: django3\n', '  carol: django3\n  dave: django2\n'));
  });

  it('turns users: (null) into a block mapping and an emptied one into users: {}', () => {
    const text = `${head}${groups}users:\n`;
    const added = setUserGroup(text, 'alice', 'g1');
    assert.equal(added, `${head}${groups}users:\n  alice: g1\n`);
    assert.equal(removeUser(added, 'alice'), `${head}${groups}users: {}\n`);
  });

  it('appends users: after the last top-level entry when it is missing', () => {
    const text = `${head}${groups}# trailing notes\n`;
    assert.equal(setUserGroup(text, 'alice', 'g1'), `${head}${groups}users:\n  alice: g1\n# trailing notes\n`);
  });

  it('uses the file\'s own indentation step', () => {
    const text = 'site:\n    settings_module: demo.settings\napache:\n    conf_file: c\n    wsgi_dir: w\n    user_file: u\ngroups:\n    g1: ~\n';
    const added = setUserGroup(text, 'alice', 'g1');
    assert.equal(added, `${text}users:\n    alice: g1\n`);
    assert.equal(setUserGroup(added, 'bob', 'g1'), `${text}users:\n    alice: g1\n    bob: g1\n`);
    assert.deepEqual(usersOf(added), [['alice', 'g1']]);
  });

  it('adds to a flow mapping inside the braces', () => {
    const text = `${head}${groups}users: {alice: g1}\n`;
    assert.equal(setUserGroup(text, 'bob', 'g2'), `${head}${groups}users: {alice: g1, bob: g2}\n`);
    const two = `${head}${groups}users: {alice: g1, bob: g2}\n`;
    assert.equal(removeUser(two, 'bob'), text);
    assert.equal(removeUser(two, 'alice'), `${head}${groups}users: {bob: g2}\n`);
    assert.equal(removeUser(text, 'alice'), `${head}${groups}users: {}\n`);
  });

  it('leaves the text alone when the user already has that group', () => {
    const text = `${head}${groups}users:\n  alice: 'g1'   # quoted\n`;
    assert.equal(setUserGroup(text, 'alice', 'g1'), text);
  });

  it('gives a user with no group a group', () => {
    const text = `${head}${groups}users:\n  alice:   # todo\n  bob: g1\n`;
    assert.equal(setUserGroup(text, 'alice', 'g2'), `${head}${groups}users:\n  alice: g2   # todo\n  bob: g1\n`);
  });

  it('keeps CRLF line endings', () => {
    const text = demo.replace(/\n/g, '\r\n');
    const added = setUserGroup(text, 'dave', 'django1');
    assert.equal(added, text.replace('  carol: django3\r\n', '  carol: django3\r\n  dave: django1\r\n'));
    assert.equal(removeUser(added, 'dave'), text);
  });

  describe('user names that need quoting', () => {
    const hostile = [
      "o'brien", 'a#b', 'é', 'Zoë', '日本', '?x', '@x', '*x', '!x', '%x', '&x', '|x', '>x', "'x", '"x"', '[x', '{x}', ',x', 'x,y',
      '`x', 'a]b', 'yes', 'No', 'on', 'y', 'true', 'FALSE', '123', '0x1F', '0o17', '1e3', '1_000', '.5', '.inf', '.NaN', 'null', 'NULL', '~',
      '<<', '=', '...', 'a\\b', 'x#', '%', '2001-01-01', 'bob@example.com', 'a.b-c_d', '😀',
    ];
    for (const user of hostile) {
      it(`round-trips ${JSON.stringify(user)}`, () => {
        const added = setUserGroup(demo, user, 'django2');
        // sorted: the validator builds a JS object, which lists integer-like keys such as "123" first
        assert.deepEqual(usersOf(added).sort(), [['alice', 'django1'], ['bob', 'django2'], ['carol', 'django3'], [user, 'django2']].sort());
        const line = insertedLine(demo, added);
        assert.equal(parseDocument(line.trim(), { schema: 'core' }).toJS()[user], 'django2', line);
        const moved = setUserGroup(added, user, 'django3');
        assert.deepEqual(changedLines(added, moved).length, 1);
        assert.equal(removeUser(moved, user), demo);
      });
    }

    it('keeps plain names plain and quotes the rest', () => {
      const keyOf = (user: string) => insertedLine(demo, setUserGroup(demo, user, 'django2')).trim().replace(/: django2$/, '');
      assert.equal(keyOf('dave'), 'dave');
      assert.equal(keyOf('é'), 'é');
      assert.equal(keyOf('bob@example.com'), 'bob@example.com');
      assert.equal(keyOf('yes'), '"yes"');
      assert.equal(keyOf('123'), '"123"');
      assert.equal(keyOf("o'brien"), '"o\'brien"');
      assert.equal(keyOf('a\\b'), '"a\\\\b"');
    });

    it('round-trips names the validator refuses, as exact YAML keys', () => {
      for (const user of ['a b', 'a: b', '12:30', ' x', 'x ', '#x', 'tab\there', 'new\nline', '\u0085', '\u2028', '\ufeff', '\u0000', 'a"b\\c', '\ud800', '']) {
        const added = setUserGroup(demo, user, 'django2');
        const doc = parseDocument(added, { schema: 'core' });
        assert.deepEqual(doc.errors, []);
        const users = doc.get('users');
        assert.ok(isMap(users));
        const last = users.items.at(-1)!;
        assert.ok(isScalar(last.key));
        assert.equal(last.key.value, user);
        assert.equal(removeUser(added, user), demo);
      }
    });

    it('quotes a group that YAML would read as something else', () => {
      const text = `${head}groups:\n  "yes": ~\n  "null": ~\nusers:\n  alice: "yes"\n`;
      const added = setUserGroup(text, 'bob', 'null');
      assert.equal(insertedLine(text, added), '  bob: "null"');
      assert.deepEqual(usersOf(added), [['alice', 'yes'], ['bob', 'null']]);
      assert.deepEqual(usersOf(setUserGroup(text, 'alice', 'null')), [['alice', 'null']]);
    });
  });

  describe('refusals', () => {
    it('refuses to remove a user that is not there, suggesting a near name', () => {
      assert.throws(() => removeUser(demo, 'alcie'), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /user "alcie" is not in the inventory \(did you mean "alice"\?\)/);
        return true;
      });
      assert.throws(() => removeUser(`${head}${groups}`, 'alice'), UserError);
    });

    it('refuses YAML it cannot parse, and users: that is not a mapping', () => {
      assert.throws(() => setUserGroup('site: [\n', 'alice', 'g1'), UserError);
      assert.throws(() => setUserGroup(`${head}${groups}users: [alice]\n`, 'bob', 'g1'), /not a mapping/);
      assert.throws(() => removeUser(`${head}${groups}users: alice\n`, 'alice'), /not a mapping/);
      assert.throws(() => setUserGroup('- a\n- b\n', 'alice', 'g1'), /top level is not a block mapping/);
    });

    it('matches a key YAML reads as a number by its text', () => {
      const text = `${head}${groups}users:\n  123: g1\n`;
      const moved = setUserGroup(text, '123', 'g2');
      assert.equal(moved, `${head}${groups}users:\n  123: g2\n`);
      assert.deepEqual(usersOf(moved), [['123', 'g2']]);
      assert.equal(removeUser(text, '123'), `${head}${groups}users: {}\n`);
    });
  });
});
