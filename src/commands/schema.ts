import { ExitCode } from '../exit-codes.js';
import { inventorySchema } from '../inventory/schema.js';
import { json, type Io } from '../io.js';

export type SchemaOptions = Record<string, never>;

/** The inventory's JSON Schema (draft-07), for editors: `plexctl schema > plex.schema.json`. */
export async function schemaCommand(_options: SchemaOptions, io: Io): Promise<ExitCode> {
  io.out(json(inventorySchema));
  return ExitCode.ok;
}
