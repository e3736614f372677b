// A small SOCKS5 proxy on 127.0.0.1 for tests (RFC 1928 CONNECT, optional RFC 1929 user/password):
// it counts the tunnels it opens per requested authority and sends every one to 127.0.0.1 at the
// requested port (so made-up names resolve).
import net from 'node:net';

export interface CountingSocksProxy {
  url: string;
  /** Tunnels opened, per `host:port` asked for. */
  tunnels: Map<string, number>;
  /** Logins refused (wrong user or password). */
  refused: number;
  stop(): Promise<void>;
}

export async function startSocks5Proxy(login?: { username: string; password: string }): Promise<CountingSocksProxy> {
  const tunnels = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const state = { refused: 0 };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'open' = 'greeting';
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'greeting') {
        if (buffer.length < 2 || buffer.length < 2 + buffer[1]) return;
        const methods = [...buffer.subarray(2, 2 + buffer[1])];
        buffer = buffer.subarray(2 + buffer[1]);
        const method = login ? 0x02 : 0x00;
        if (!methods.includes(method)) return void client.end(Buffer.from([0x05, 0xff]));
        client.write(Buffer.from([0x05, method]));
        stage = login ? 'auth' : 'request';
      }
      if (stage === 'auth') {
        if (buffer.length < 2) return;
        const userLength = buffer[1];
        if (buffer.length < 3 + userLength || buffer.length < 3 + userLength + buffer[2 + userLength]) return;
        const username = buffer.subarray(2, 2 + userLength).toString();
        const passwordLength = buffer[2 + userLength];
        const password = buffer.subarray(3 + userLength, 3 + userLength + passwordLength).toString();
        buffer = buffer.subarray(3 + userLength + passwordLength);
        const ok = username === login!.username && password === login!.password;
        if (!ok) state.refused += 1;
        client.write(Buffer.from([0x01, ok ? 0x00 : 0x01]));
        if (!ok) return void client.end();
        stage = 'request';
      }
      if (stage === 'request') {
        if (buffer.length < 5) return;
        const type = buffer[3];
        const addressLength = type === 0x01 ? 4 : type === 0x04 ? 16 : 1 + buffer[4];
        if (buffer.length < 4 + addressLength + 2) return;
        const address = buffer.subarray(4, 4 + addressLength);
        const ipv6 = () => `[${address.toString('hex').match(/.{4}/g)!.join(':')}]`;
        const host = type === 0x03 ? address.subarray(1).toString() : type === 0x01 ? [...address].join('.') : ipv6();
        const port = buffer.readUInt16BE(4 + addressLength);
        const rest = buffer.subarray(4 + addressLength + 2);
        stage = 'open';
        client.off('data', onData);
        const authority = `${host}:${port}`;
        tunnels.set(authority, (tunnels.get(authority) ?? 0) + 1);
        const upstream = net.connect(port, '127.0.0.1', () => {
          client.write(Buffer.from([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0]));
          if (rest.length) upstream.write(rest);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', () => client.end(Buffer.from([0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0])));
      }
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const credentials = login ? `${encodeURIComponent(login.username)}:${encodeURIComponent(login.password)}@` : '';
  return {
    url: `socks5://${credentials}127.0.0.1:${port}`,
    tunnels,
    get refused() {
      return state.refused;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
