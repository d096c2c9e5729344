import type { Client } from '@temporalio/client';
import { connectClient } from '../adapters/temporal-connection.js';
import type { PavedConfig } from '../domain/config.js';
import { PavedError } from '../domain/errors.js';
import { parseReleaseRef } from '../domain/release.js';

/** Runs fn with a Temporal client and always closes the connection. */
export async function withClient<T>(config: PavedConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  let client: Client;
  try {
    client = await connectClient(config, 5000);
  } catch (err) {
    throw new PavedError(
      `cannot reach Temporal at ${config.temporal.address} (${(err as Error).message}). Fix: run \`npx paved stack up\`, or set PAVED_TEMPORAL_ADDRESS.`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

export function releaseRef(ref: string): { model: string; version: string } {
  const parsed = parseReleaseRef(ref);
  if (!parsed)
    throw new PavedError(
      `"${ref}" is not a release. Fix: name it as <model>/<version>, e.g. arrests/3f2a1b9c0d4e`,
    );
  return parsed;
}
