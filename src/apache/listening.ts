/**
 * The TCP addresses a process listens on, from /proc (Linux): its socket inodes
 * (/proc/PID/fd → `socket:[N]`) matched against the LISTEN rows of /proc/net/tcp and tcp6. What
 * a running Apache is actually reachable at, whatever its configuration files say. The parsing is
 * pure; only `listeningAddresses` reads /proc.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface ListenAddress {
  address: string;
  port: number;
}

const listenState = '0A';

/** `0100007F` (little-endian IPv4 as /proc prints it) → `127.0.0.1`. */
function ipv4(hex: string): string {
  const bytes = hex.match(/../g)!.map((b) => Number.parseInt(b, 16));
  return bytes.reverse().join('.');
}

/** 32 hex digits, four little-endian 32-bit words → an IPv6 address (`::`, `::1` and `::ffff:a.b.c.d` short, the rest uncompressed). */
function ipv6(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const groups = words.join('').match(/.{4}/g)!.map((g) => Number.parseInt(g, 16));
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 8)) return '::';
  if (zeros(0, 7) && groups[7] === 1) return '::1';
  if (zeros(0, 5) && groups[5] === 0xffff) return `::ffff:${[groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.')}`;
  return groups.map((g) => g.toString(16)).join(':');
}

/** LISTEN rows of /proc/net/tcp or tcp6 whose inode is in `inodes`. */
export function parseListening(table: string, inodes: ReadonlySet<string>): ListenAddress[] {
  const found: ListenAddress[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== listenState || !inodes.has(fields[9]!)) continue;
    const [addressHex, portHex] = fields[1]!.split(':') as [string, string];
    found.push({ address: addressHex.length === 8 ? ipv4(addressHex) : ipv6(addressHex), port: Number.parseInt(portHex, 16) });
  }
  return found;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms: reachable from this machine only. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d+\.\d+\.\d+$/.test(v4) || address === '::1';
}

export async function listeningAddresses(pid: number): Promise<ListenAddress[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  const tables = await Promise.all(['tcp', 'tcp6'].map((t) => readFile(`/proc/${pid}/net/${t}`, 'utf8').catch(() => undefined)));
  // A kernel without IPv6 has no tcp6; with neither table nothing can be said.
  if (tables.every((t) => t === undefined)) throw new Error(`cannot read /proc/${pid}/net/tcp or tcp6`);
  return tables.flatMap((table) => (table === undefined ? [] : parseListening(table, inodes)));
}
