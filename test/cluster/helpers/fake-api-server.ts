// A tiny HTTPS + WebSocket server on 127.0.0.1 with a real self-signed CA, scripted per test:
// enough of the Kubernetes API to exercise the live reader, exec and port-forward clients.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { createServingIdentity } from '../../../src/lab/pki.ts';

export const TOKEN = 'test-token-abc';

export interface FakeApiServer {
  url: string;
  caPem: string;
  /** Paths (with query) of every HTTP request and upgrade, in arrival order. */
  requests: string[];
  /** A single-context KubeConfig trusting the CA, with the bearer token. */
  kubeConfig(token?: string): KubeConfig;
  stop(): Promise<void>;
}

export interface FakeApiHandlers {
  http?: (req: IncomingMessage, res: ServerResponse, url: URL) => void;
  /** Called with the accepted socket of an upgrade (exec, portforward). */
  ws?: (socket: WebSocket, url: URL) => void;
  /** Protocols the server accepts, in its preference order. Default: v5 then v4. */
  protocols?: string[];
  /** Refuse an upgrade with the HTTP status returned (undefined: accept). */
  rejectUpgrade?: (url: URL) => number | undefined;
}

let identity: Awaited<ReturnType<typeof createServingIdentity>> | undefined;

export async function startFakeApiServer(handlers: FakeApiHandlers): Promise<FakeApiServer> {
  identity ??= await createServingIdentity('fake');
  const requests: string[] = [];
  const server = https.createServer({ cert: identity.serving.certPem, key: identity.serving.keyPem }, (req, res) => {
    requests.push(req.url ?? '');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      sendStatus(res, 401, 'Unauthorized');
      return;
    }
    if (handlers.http) handlers.http(req, res, new URL(req.url ?? '/', 'https://x'));
    else sendStatus(res, 404, 'not found');
  });
  const accepted = handlers.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => accepted.find((p) => offered.has(p)) ?? false,
  });
  server.on('upgrade', (req, socket, head) => {
    requests.push(req.url ?? '');
    const refusal = handlers.rejectUpgrade?.(new URL(req.url ?? '/', 'https://x'));
    if (refusal) {
      const body = JSON.stringify({ kind: 'Status', status: 'Failure', message: 'pods "x" is forbidden', code: refusal });
      socket.end(`HTTP/1.1 ${refusal} Refused\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => handlers.ws?.(ws, new URL(req.url ?? '/', 'https://x')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const caPem = identity.ca.certPem;
  return {
    url,
    caPem,
    requests,
    kubeConfig(token = TOKEN) {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
        users: [{ name: 'fake', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
        currentContext: 'fake',
      });
      return kc;
    },
    async stop() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, code: number, message: string): void {
  sendJson(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
}

/** Send `data` on a channel (first byte = channel). */
export function sendChannel(ws: WebSocket, channel: number, data: string | Buffer): void {
  ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
}
