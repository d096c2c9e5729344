import Docker from 'dockerode';
import type { PavedConfig } from '../domain/config.js';

/** A dockerode client for the configured Docker host (unix socket or tcp). */
export function dockerClient(config: PavedConfig): Docker {
  return dockerAt(config.docker.host);
}

/**
 * The daemons model replicas run on: `docker.hosts`, or the one `docker.host`. With
 * timeoutMs, a daemon that accepts and never answers fails the call instead of holding it.
 */
export function replicaHosts(
  config: PavedConfig,
  timeoutMs?: number,
): Array<{ url: string; docker: Docker }> {
  const urls = config.docker.hosts.length > 0 ? config.docker.hosts : [config.docker.host];
  return urls.map((url) => ({
    url,
    docker:
      url === config.docker.host && timeoutMs === undefined ? dockerClient(config) : dockerAt(url, timeoutMs),
  }));
}

export function dockerAt(host: string, timeoutMs?: number): Docker {
  const timeout = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length), ...timeout });
  const url = new URL(host);
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http', ...timeout });
}
