/** Reading plexctl's own procmap.txt back (`user group` lines, `#` comments). Pure. */

/** The groups a map routes at least one user to. */
export function mappedGroups(text: string): Set<string> {
  const groups = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const group = line.split(' ')[1];
    if (group) groups.add(group);
  }
  return groups;
}
