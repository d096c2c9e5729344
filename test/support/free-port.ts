import net from 'node:net';

/** A TCP server on a free loopback port, standing in for "something that is not ours". */
export async function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {}); // clients that give up reset the connection
    s.on('close', () => sockets.delete(s));
    s.end('not a paved service\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export { ephemeralPort as freePort } from '../../src/adapters/stack/ports.js';
