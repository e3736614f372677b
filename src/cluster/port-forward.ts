// One HTTP GET through `pods/portforward` over WebSocket (v4.channel.k8s.io): for the single
// forwarded port, channel 0 carries data and channel 1 errors, and the first frame the server sends
// on each is the port number (2 bytes, little-endian). The istiod debug fallback when exec is denied.
import { DEFAULT_MAX_OUTPUT_BYTES, openChannelSocket } from './exec.ts';
import type { KubeEndpoint } from './kube-http.ts';
import { AccessError } from './types.ts';
import type { PodRef } from './types.ts';

/** Subprotocol of the WebSocket port-forward. */
export const PORT_FORWARD_SUBPROTOCOLS = ['v4.channel.k8s.io'];

const DATA = 0;
const ERROR = 1;

/** A GET through a port-forward. */
export interface PortForwardGet {
  pod: PodRef;
  port: number;
  /** Path with query, e.g. `/debug/syncz`. */
  path: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Bound on the response (default: exec's, 64 MiB): a pod that streams without end fails, not meshdoctor. */
  maxBytes?: number;
}

/** GET `path` on `pod:port` through a port-forward; resolves the body of a 200, AccessError otherwise. */
export async function portForwardGet(endpoint: KubeEndpoint, req: PortForwardGet): Promise<string> {
  const apiPath = `/api/v1/namespaces/${encodeURIComponent(req.pod.namespace)}/pods/${encodeURIComponent(req.pod.name)}/portforward?ports=${req.port}`;
  const what = `port-forward to ${req.pod.namespace}/${req.pod.name}:${req.port}`;
  const received: Buffer[] = [];
  let receivedBytes = 0;
  const errors: Buffer[] = [];
  const portHeaderSeen = { [DATA]: false, [ERROR]: false };
  // Where the body starts and how it ends, once the response head has arrived: from then on a frame
  // costs no copy of what came before (joining every frame on every frame made a 36 MB endpointShardz
  // or ztunnel dump quadratic), and the body is joined and parsed once, when it can be complete.
  let head: { bodyStart: number; contentLength?: number; chunked: boolean } | undefined;
  let tail = Buffer.alloc(0);
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

  const outcome = (ended: boolean): string | AccessError | undefined => {
    if (errors.length > 0) return new AccessError('bad-response', endpoint.cluster, `${what}: ${Buffer.concat(errors).toString('utf8').trim()}`);
    if (receivedBytes > maxBytes) return new AccessError('bad-response', endpoint.cluster, `${what}: GET ${req.path} answered more than ${maxBytes / 1024 / 1024} MiB`);
    if (!ended && !mayBeComplete()) return undefined;
    const response = parseHttpResponse(joined(), ended);
    if (!response) return ended ? new AccessError('bad-response', endpoint.cluster, `${what}: connection closed before a complete HTTP response`) : undefined;
    if (response.status !== 200) return new AccessError('bad-response', endpoint.cluster, `${what}: GET ${req.path} answered HTTP ${response.status}`);
    return response.body;
  };
  const joined = (): Buffer => {
    const all = received.length === 1 ? received[0] : Buffer.concat(received);
    received.splice(0, received.length, all);
    return all;
  };
  /** Cheap: whether the response can be complete now (parseHttpResponse then decides). */
  const mayBeComplete = (): boolean => {
    if (!head) {
      const all = joined(); // only the head's frames, a few kB, are joined before the head is known
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const text = all.subarray(0, end).toString('latin1');
      const length = /^content-length:\s*(\d+)\s*$/im.exec(text)?.[1];
      head = { bodyStart: end + 4, chunked: /^transfer-encoding:.*chunked/im.test(text), ...(length !== undefined ? { contentLength: Number(length) } : {}) };
    }
    if (head.chunked) return /\r\n\r\n$/.test(tail.toString('latin1')); // the last chunk and its trailer end so
    if (head.contentLength !== undefined) return receivedBytes >= head.bodyStart + head.contentLength;
    return false; // delimited by the connection's close
  };

  return openChannelSocket<string>(
    endpoint,
    apiPath,
    PORT_FORWARD_SUBPROTOCOLS,
    {
      timeoutMs: req.timeoutMs,
      signal: req.signal,
      what,
      onOpen: (socket) => {
        const request = `GET ${req.path} HTTP/1.1\r\nHost: localhost:${req.port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`;
        socket.send(Buffer.concat([Buffer.from([DATA]), Buffer.from(request, 'latin1')]));
      },
      onClose: () => outcome(true),
    },
    (frame, finish) => {
      const channel = frame[0];
      if (channel !== DATA && channel !== ERROR) return;
      let data = frame.subarray(1);
      if (!portHeaderSeen[channel]) {
        // The first frame of each channel starts with the port; data may follow in the same frame.
        portHeaderSeen[channel] = true;
        data = data.subarray(2);
      }
      if (data.length === 0) return;
      if (channel === DATA) {
        received.push(data);
        receivedBytes += data.length;
        tail = Buffer.concat([tail, data.subarray(-4)]).subarray(-4);
      } else {
        errors.push(data);
      }
      const result = outcome(false);
      if (result !== undefined) finish(result);
    },
  );
}

/**
 * Parse an HTTP/1.1 response: undefined until complete. Complete means Content-Length bytes, the last
 * chunk of a chunked body, or (`ended`) the connection closed. Exported for tests.
 */
export function parseHttpResponse(raw: Buffer, ended: boolean): { status: number; body: string } | undefined {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const head = raw.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers = new Map(
    head.slice(1).map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    }),
  );
  const body = raw.subarray(headerEnd + 4);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const decoded = decodeChunked(body);
    return decoded ? { status, body: decoded.toString('utf8') } : undefined;
  }
  const length = headers.get('content-length');
  if (length !== undefined) {
    return body.length >= Number(length) ? { status, body: body.subarray(0, Number(length)).toString('utf8') } : undefined;
  }
  return ended ? { status, body: body.toString('utf8') } : undefined;
}

/** Decode a complete chunked body, or undefined while the terminating chunk has not arrived. */
function decodeChunked(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (body.length < start + size + 2) return undefined;
    parts.push(body.subarray(start, start + size));
    offset = start + size + 2;
  }
}
