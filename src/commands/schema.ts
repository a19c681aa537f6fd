import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import type { CommandModule } from './command.js';

export type SchemaOptions = Record<string, never>;

/** The inventory's JSON Schema (draft-07), for editors: `plexctl schema > plex.schema.json`. */
export async function schemaCommand(_options: SchemaOptions, io: Io): Promise<ExitCode> {
  const { inventorySchema } = await import('../inventory/schema.js');
  io.out(json(inventorySchema));
  return ExitCode.ok;
}

export const command: CommandModule = {
  name: 'schema',
  summary: "print the inventory's JSON Schema",
  description: "print the inventory's JSON Schema (draft-07), e.g. for yaml-language-server",
  run: (_args, _o, ctx) => schemaCommand({}, ctx.io),
};
