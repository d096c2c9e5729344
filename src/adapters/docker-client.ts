import Docker from 'dockerode';
import type { PavedConfig } from '../domain/config.js';

/** A dockerode client for the configured Docker host (unix socket or tcp). */
export function dockerClient(config: PavedConfig): Docker {
  return dockerAt(config.docker.host);
}

/** The daemons model replicas run on: `docker.hosts`, or the one `docker.host`. */
export function replicaHosts(config: PavedConfig): Array<{ url: string; docker: Docker }> {
  const urls = config.docker.hosts.length > 0 ? config.docker.hosts : [config.docker.host];
  return urls.map((url) => ({
    url,
    docker: url === config.docker.host ? dockerClient(config) : dockerAt(url),
  }));
}

export function dockerAt(host: string): Docker {
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host);
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
}
