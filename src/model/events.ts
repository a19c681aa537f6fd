/**
 * What the core reports while it changes the live server: typed events, never sentences. The
 * command layer words them (src/commands/words.ts) for text output; --json carries them as they are.
 */
import type { FileAction, FileKind } from './files.js';

export type Event =
  | { kind: 'file'; action: FileAction; path: string; fileKind: FileKind; group?: string }
  /** The inventory file's entry for a user: set (added or moved), removed, or already there (an earlier add is being completed). */
  | { kind: 'inventory'; change: 'set' | 'removed' | 'present'; user: string; group?: string; from?: string; file: string }
  | { kind: 'password'; change: 'set' | 'removed'; users: string[]; location: string; notInInventory?: boolean }
  /** A new session passphrase; `dropped`: how many old ones no longer decrypt. */
  | { kind: 'session-key'; path: string; passphrases: number; dropped: number }
  | { kind: 'graceful'; reasons: string[] }
  | { kind: 'serving'; groups: number }
  | { kind: 'restarted'; group: string; oldPids: number[]; newPids: number[]; reason?: string }
  /** A system account created for a group's daemons. */
  | { kind: 'account'; user: string; group: string; uid: number }
  /** A data directory created, or given its mode and owner. */
  | { kind: 'directory'; action: 'create' | 'fix'; path: string; mode: number; owner?: string }
  /**
   * A group released after its last user left: its data moved aside (archived), deleted, kept, or
   * there was none; `ended` processes of its account; a shared account only had its daemons restarted.
   */
  | { kind: 'released'; group: string; data: 'archived' | 'deleted' | 'kept' | 'none'; archive?: string; ended: number; sharedAccount: boolean; serving: boolean; notRunning?: string }
  /** A new instance's `site.init` commands all ran (it is routed to from now on). */
  | { kind: 'initialised'; group: string; commands: string[] }
  /** Nothing was signalled, because the server is not running. */
  | { kind: 'not-signalled'; reason: string };

export type Emit = (event: Event) => void;

export const fileEvent = (c: { action: FileAction; path: string; kind: FileKind; group?: string }): Event => ({
  kind: 'file',
  action: c.action,
  path: c.path,
  fileKind: c.kind,
  ...(c.group !== undefined ? { group: c.group } : {}),
});
