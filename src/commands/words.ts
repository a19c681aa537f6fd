/** The words for the core's events (src/model/events.ts), for text output. Pure. */
import type { Event } from '../model/events.js';

export function eventText(event: Event): string {
  switch (event.kind) {
    case 'file':
      return `${event.action} ${event.path}`;
    case 'inventory':
      if (event.change === 'removed') return `${event.user} removed from ${event.file}`;
      if (event.change === 'present') return `${event.user} -> ${event.group} already there (completing an earlier add)`;
      return event.from !== undefined ? `${event.user}: ${event.from} -> ${event.group} in ${event.file}` : `${event.user} -> ${event.group} in ${event.file}`;
    case 'password':
      if (event.change === 'set') return `set in ${event.location}`;
      return event.notInInventory ? `removed from ${event.location}: ${event.users.join(', ')} (not in the inventory)` : `entry removed from ${event.location}`;
    case 'session-key':
      return `new session passphrase in ${event.path}: sessions made with the one before it stay valid${event.dropped > 0 ? `, those made with older ones (${event.dropped}) end` : ''}`;
    case 'graceful':
      return `graceful restart of Apache (${event.reasons.join('; ')}): every group restarts`;
    case 'serving':
      return `every group serves again (${event.groups} groups)`;
    case 'restarted':
      return event.reason !== undefined
        ? `restarted ${event.group} (${event.reason}): pid ${event.oldPids.join(',')} -> ${event.newPids.join(',')}`
        : `${event.group}: ${event.oldPids.join(',') || '-'} -> ${event.newPids.join(',')}`;
    case 'account':
      return `created system user ${event.user} (uid ${event.uid}) for group ${event.group}`;
    case 'directory':
      return `${event.action === 'create' ? 'created' : 'fixed'} ${event.path} (mode ${event.mode.toString(8).padStart(4, '0')}${event.owner !== undefined ? `, owner ${event.owner}` : ''})`;
    case 'released': {
      const data = { archived: `data moved to ${event.archive}`, deleted: 'data deleted', kept: 'data KEPT for the next tenant (site.on_release: keep)', none: 'no data' }[event.data];
      if (!event.serving) {
        const ended = event.ended > 0 ? `; ${event.ended} leftover process${event.ended === 1 ? '' : 'es'} of its account ended` : '';
        return `released ${event.group}: ${data}${ended}; Apache is not running (${event.notRunning}): no process was signalled${ended ? ' besides those' : ''}`;
      }
      const processes = event.sharedAccount ? 'daemons restarted (shared account: other processes not ended)' : `${event.ended} process${event.ended === 1 ? '' : 'es'} of its account ended`;
      return `released ${event.group}: ${data}; ${processes}; fresh daemons serve`;
    }
    case 'initialised':
      return `initialised ${event.group}: ${event.commands.join('; ')}`;
    case 'not-signalled':
      return `Apache is not running (${event.reason}): no process was signalled`;
  }
}

/** Several events of one step on one line: files by commas, the rest by semicolons (as before events). */
export function eventsText(events: Event[]): string {
  return events.map(eventText).join(events.every((e) => e.kind === 'file') ? ', ' : '; ');
}
