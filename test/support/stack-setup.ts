import { loadConfig } from '../../src/adapters/config-loader.js';
import { stackUp } from '../../src/adapters/stack/stack.js';

/**
 * Integration and end-to-end tests run against the real local stack. `npm test`
 * brings it up before vitest starts; this makes `npx vitest` alone work too, and is
 * quick when everything already answers.
 */
export default async function setup(): Promise<void> {
  const parts = await stackUp(loadConfig());
  const down = parts.filter((p) => !p.healthy);
  if (down.length > 0)
    throw new Error(`stack not healthy: ${down.map((p) => `${p.part} (${p.detail})`).join(', ')}`);
}
