/* global process, fetch, AbortSignal */
// The platform image's container health probe. Plain JavaScript on purpose: the
// `paved` command starts through a TypeScript loader, and probing five services
// that way every few seconds would take a core of a two-core server away from the
// shadow stage's measurements. Ports come from the same PAVED_* variables as paved's.
import net from 'node:net';

const env = process.env;
const local = (port) => `127.0.0.1:${port}`;

function tcp(address) {
  const i = address.lastIndexOf(':');
  const socket = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
  return new Promise((resolve) => {
    socket.setTimeout(2000, () => resolve(false));
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
  }).finally(() => socket.destroy());
}

async function http(url, expect = () => true) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.ok && expect(await res.text());
  } catch {
    return false;
  }
}

const probes = {
  temporal: () => tcp(env.PAVED_TEMPORAL_ADDRESS ?? local(7233)),
  registry: () => http(`http://${env.PAVED_REGISTRY ?? local(5000)}/v2/`),
  'feature-store': () => http(`http://${local(env.PAVED_FEATURE_STORE_PORT ?? 6566)}/health`),
  envoy: () =>
    http(`http://${local(env.PAVED_DATA_PLANE_ADMIN_PORT ?? 8092)}/ready`, (b) => b.trim() === 'LIVE'),
  gateway: () => http(`http://${local(env.PAVED_GATEWAY_ADMIN_PORT ?? 8091)}/healthz`),
};

const probe = probes[process.argv[2]];
if (!probe) {
  process.stderr.write(`usage: healthcheck.mjs ${Object.keys(probes).join('|')}\n`);
  process.exit(2);
}
process.exit((await probe()) ? 0 : 1);
