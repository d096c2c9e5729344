import { Client } from 'undici';
import type { Endpoint } from '../../domain/route.js';

/** An HTTP client for a replica's endpoint: a unix socket (sealed) or loopback TCP. */
export function endpointClient(endpoint: Endpoint, timeoutMs = 10_000): Client {
  const opts = { connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
  return endpoint.startsWith('unix:')
    ? new Client('http://model', { ...opts, socketPath: endpoint.slice('unix:'.length) })
    : new Client(endpoint, opts);
}
