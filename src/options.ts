/**
 * The options several commands share, declared once: `-i/--inventory` and `--lock-timeout` on
 * the program, `--json` and `--timeout` on the commands that take them. Only commander is
 * imported here, so that declaring the command line costs nothing beyond it.
 */
import { InvalidArgumentError, Option } from 'commander';

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number of seconds, 0 or more');
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  return n;
}

/** Program-wide: the inventory file. */
export const inventoryOption = () => new Option('-i, --inventory <file>', 'the inventory (default: $PLEXCTL_INVENTORY, else ./plex.yaml)');

/** Program-wide: how long a command that changes files waits for the inventory lock. */
export const lockTimeoutOption = () =>
  new Option('--lock-timeout <seconds>', 'how long a command that changes files waits for another plexctl holding the lock').default(30).argParser(seconds);

export const jsonOption = () => new Option('--json', 'machine-readable output').default(false);

/** `--timeout`: how long to wait for restarted groups; each command says what it waits for and its default. */
export const timeoutOption = (description = 'how long to wait for a restarted group to serve again', defaultSeconds = 15) =>
  new Option('--timeout <seconds>', description).default(defaultSeconds).argParser(seconds);
