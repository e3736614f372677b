import { afterEach, describe, expect, it } from 'vitest';
import { execInPod, parseExecStatus } from '../../src/cluster/exec.ts';
import type { KubeEndpoint } from '../../src/cluster/kube-http.ts';
import type WebSocket from 'ws';
import { parseHttpResponse, portForwardGet } from '../../src/cluster/port-forward.ts';
import { sendChannel, startFakeApiServer } from './helpers/fake-api-server.ts';
import type { FakeApiHandlers, FakeApiServer } from './helpers/fake-api-server.ts';

let servers: FakeApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});
async function endpointFor(handlers: FakeApiHandlers): Promise<{ endpoint: KubeEndpoint; server: FakeApiServer }> {
  const server = await startFakeApiServer(handlers);
  servers.push(server);
  return { server, endpoint: { cluster: 'c1', server: server.url, kubeConfig: server.kubeConfig() } };
}
const pod = { namespace: 'sample', name: 'hello' };
const nonZero = (code: number): string =>
  JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', message: `command terminated with non-zero exit code: ${code}`, details: { causes: [{ reason: 'ExitCode', message: String(code) }] } });

describe('exec over WebSocket', () => {
  it('collects stdout and stderr and reads exit 0 from the status channel (v5 preferred)', async () => {
    let protocol = '';
    const { endpoint, server } = await endpointFor({
      ws: (ws) => {
        protocol = ws.protocol;
        sendChannel(ws, 1, 'hello ');
        sendChannel(ws, 2, 'warn');
        sendChannel(ws, 1, 'world');
        sendChannel(ws, 3, JSON.stringify({ metadata: {}, status: 'Success' }));
        ws.close();
      },
    });
    expect(await execInPod(endpoint, { pod, container: 'app', command: ['echo', 'hello world'] })).toEqual({ exitCode: 0, stdout: 'hello world', stderr: 'warn' });
    expect(protocol).toBe('v5.channel.k8s.io');
    expect(server.requests[0]).toBe('/api/v1/namespaces/sample/pods/hello/exec?container=app&stdout=true&stderr=true&command=echo&command=hello+world');
  });

  it('reads a non-zero exit code over v4', async () => {
    const { endpoint } = await endpointFor({
      protocols: ['v4.channel.k8s.io'],
      ws: (ws) => {
        sendChannel(ws, 2, 'nope');
        sendChannel(ws, 3, nonZero(3));
        ws.close();
      },
    });
    expect(await execInPod(endpoint, { pod, container: 'app', command: ['false'] })).toEqual({ exitCode: 3, stdout: '', stderr: 'nope' });
  });

  it('treats a close without status as bad-response', async () => {
    const { endpoint } = await endpointFor({
      ws: (ws) => {
        sendChannel(ws, 1, 'partial');
        ws.close();
      },
    });
    await expect(execInPod(endpoint, { pod, container: 'app', command: ['x'] })).rejects.toMatchObject({ reason: 'bad-response', message: expect.stringContaining('closed without a status') });
  });

  it('gives up on a hung command at the deadline', async () => {
    const { endpoint } = await endpointFor({ ws: () => {} });
    const started = Date.now();
    await expect(execInPod(endpoint, { pod, container: 'app', command: ['sleep', '1000'], timeoutMs: 300 })).rejects.toMatchObject({ reason: 'timeout', cluster: 'c1' });
    // The 300 ms deadline ended it, not the command: a wide margin so that a loaded machine passes too.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops on abort', async () => {
    const { endpoint } = await endpointFor({ ws: () => {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('check timed out')), 100);
    await expect(execInPod(endpoint, { pod, container: 'app', command: ['sleep'], signal: controller.signal })).rejects.toThrow('check timed out');
  });

  it('maps a refused upgrade and a failure status', async () => {
    const refused = await endpointFor({ rejectUpgrade: () => 403 });
    await expect(execInPod(refused.endpoint, { pod, container: 'app', command: ['x'] })).rejects.toMatchObject({ reason: 'forbidden' });
    const failing = await endpointFor({
      ws: (ws) => {
        sendChannel(ws, 3, JSON.stringify({ status: 'Failure', reason: 'InternalError', message: 'container not found ("app")' }));
        ws.close();
      },
    });
    await expect(execInPod(failing.endpoint, { pod, container: 'app', command: ['x'] })).rejects.toMatchObject({ reason: 'bad-response', message: expect.stringContaining('container not found') });
  });

  it('bounds the output', async () => {
    const { endpoint } = await endpointFor({
      ws: (ws) => {
        sendChannel(ws, 1, Buffer.alloc(2048, 'a'));
        sendChannel(ws, 3, JSON.stringify({ status: 'Success' }));
      },
    });
    await expect(execInPod(endpoint, { pod, container: 'app', command: ['cat'], maxOutputBytes: 1024 })).rejects.toMatchObject({ reason: 'bad-response' });
  });

  it('parses status bodies', () => {
    expect(parseExecStatus('{"status":"Success"}')).toEqual({ exitCode: 0 });
    expect(parseExecStatus(nonZero(137))).toEqual({ exitCode: 137 });
    expect(parseExecStatus('not json').error).toMatch(/unreadable/);
  });
});

describe('port-forward GET', () => {
  function portFrame(): Buffer {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(15014);
    return b;
  }
  /** A port-forward whose pod answers each request with `answer` (after both channels' port frames). */
  async function forwardAnswering(answer: (ws: WebSocket) => void): Promise<KubeEndpoint> {
    const { endpoint } = await endpointFor({
      protocols: ['v4.channel.k8s.io'],
      ws: (ws) => {
        sendChannel(ws, 0, portFrame());
        sendChannel(ws, 1, portFrame());
        ws.on('message', () => answer(ws));
      },
    });
    return endpoint;
  }

  it('sends the request on channel 0 and parses a chunked response', async () => {
    const endpoint = await forwardAnswering((ws) => {
      sendChannel(ws, 0, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      sendChannel(ws, 0, '6\r\n world\r\n0\r\n\r\n');
    });
    expect(await portForwardGet(endpoint, { pod, port: 15014, path: '/debug/syncz', timeoutMs: 2000 })).toBe('hello world');
  });

  it('reads a large body in many frames, by Content-Length and chunked alike', async () => {
    const body = 'x'.repeat(8 * 1024 * 1024);
    const frames = (text: string, size: number): string[] => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
    for (const response of [
      `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${frames(body, 1000).map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`,
    ]) {
      const endpoint = await forwardAnswering((ws) => {
        for (const frame of frames(response, 4093)) sendChannel(ws, 0, frame);
      });
      const read = await portForwardGet(endpoint, { pod, port: 15014, path: '/config_dump', timeoutMs: 20_000 });
      expect(read.length).toBe(body.length);
      expect(read === body).toBe(true);
    }
  });

  it('a pod that streams without end fails at the bound, long before the timeout', async () => {
    const endpoint = await forwardAnswering((ws) => {
      sendChannel(ws, 0, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = `10000\r\n${'y'.repeat(0x10000)}\r\n`;
      const timer = setInterval(() => sendChannel(ws, 0, chunk), 1);
      ws.on('close', () => clearInterval(timer));
    });
    await expect(portForwardGet(endpoint, { pod, port: 15000, path: '/config_dump', timeoutMs: 60_000, maxBytes: 1024 * 1024 })).rejects.toMatchObject({ reason: 'bad-response' });
  });

  it('reports the error channel and non-200 answers as bad-response', async () => {
    const refused = await endpointFor({
      ws: (ws) => {
        sendChannel(ws, 0, portFrame());
        sendChannel(ws, 1, Buffer.concat([portFrame(), Buffer.from('failed to connect to localhost:15014: connection refused')]));
        ws.close();
      },
    });
    await expect(portForwardGet(refused.endpoint, { pod, port: 15014, path: '/debug/syncz', timeoutMs: 2000 })).rejects.toMatchObject({
      reason: 'bad-response',
      message: expect.stringContaining('connection refused'),
    });
    const notFound = await forwardAnswering((ws) => sendChannel(ws, 0, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    await expect(portForwardGet(notFound, { pod, port: 15014, path: '/debug/nope', timeoutMs: 2000 })).rejects.toMatchObject({ reason: 'bad-response' });
  });

  it('parses a response without length at close', () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody');
    expect(parseHttpResponse(raw, false)).toBeUndefined();
    expect(parseHttpResponse(raw, true)).toEqual({ status: 200, body: 'body' });
  });
});
