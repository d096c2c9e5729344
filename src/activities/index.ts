import type { PavedConfig } from '../domain/config.js';
import { dockerClient } from '../adapters/docker-client.js';
import { RegistryClient } from '../adapters/registry-client.js';
import { createSmokeActivities } from './smoke.js';

/** All activities the worker registers, wired to the configured adapters. */
export function createActivities(config: PavedConfig) {
  return {
    ...createSmokeActivities({
      docker: dockerClient(config),
      registry: new RegistryClient(config.registry.address),
    }),
  };
}
