// The least a Node proxy can cost on this machine, for bench/gateway.ts to put beside
// the gateway: node:http in, undici's lowest-level dispatch out, every answer buffered
// and sent whole. No routing, metrics, capture, faults, header hygiene or error
// handling worth the name: not a gateway, a floor under what any Node gateway costs.
// Run: node --import tsx bench/bare-node-proxy.ts <port> <upstream origin>
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) throw new Error('usage: bare-node-proxy.ts <port> <upstream origin>');
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

createServer((req, res) => {
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.on('end', () => {
    let status = 502;
    let type = 'application/json';
    const answer: Buffer[] = [];
    pool.dispatch(
      {
        path: req.url ?? '/',
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: Buffer.concat(body),
      },
      {
        onConnect() {},
        onUpgrade() {},
        onError(err: Error) {
          res.writeHead(502).end(err.message);
        },
        onHeaders(code: number, raw: Buffer[]) {
          status = code;
          for (let i = 0; i < raw.length; i += 2)
            if (raw[i]!.toString().toLowerCase() === 'content-type') type = raw[i + 1]!.toString();
          return true;
        },
        onData(chunk: Buffer) {
          answer.push(chunk);
          return true;
        },
        onComplete() {
          const bytes = Buffer.concat(answer);
          res.writeHead(status, { 'content-type': type, 'content-length': bytes.length }).end(bytes);
        },
      },
    );
  });
}).listen(Number(port), '127.0.0.1');
