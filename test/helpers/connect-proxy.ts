// A small HTTP CONNECT proxy on 127.0.0.1 for tests: it counts the tunnels it opens per requested
// authority and sends every one to 127.0.0.1 at the requested port (so made-up names resolve).
import { createServer, type IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface CountingProxy {
  url: string;
  /** Tunnels opened, per `host:port` asked for. */
  tunnels: Map<string, number>;
  total(): number;
  stop(): Promise<void>;
}

export async function startCountingProxy(): Promise<CountingProxy> {
  const tunnels = new Map<string, number>();
  const sockets = new Set<Duplex>();
  const server = createServer((_req, res) => {
    res.writeHead(405).end('CONNECT only');
  });
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const authority = req.url ?? '';
    const port = Number(authority.slice(authority.lastIndexOf(':') + 1));
    tunnels.set(authority, (tunnels.get(authority) ?? 0) + 1);
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    total: () => [...tunnels.values()].reduce((a, b) => a + b, 0),
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
