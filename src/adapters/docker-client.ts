import Docker from 'dockerode';
import type { PavedConfig } from '../domain/config.js';

/** A dockerode client for the configured Docker host (unix socket or tcp). */
export function dockerClient(config: PavedConfig): Docker {
  const host = config.docker.host;
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host);
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
}
