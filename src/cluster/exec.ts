// Exec over WebSocket, written here rather than using client-node's Exec: that one resolves on open,
// can miss the final Status and has no deadline. This one has a handshake timeout, an overall
// deadline, an output bound, and treats a socket that closes without a Status as an error.
import WebSocket from 'ws';
import { StringDecoder } from 'node:string_decoder';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { connectionOptions, firstLine, seconds, statusMessage } from './kube-http.ts';
import { LocalAddressRefused } from './local-address.ts';
import type { KubeEndpoint } from './kube-http.ts';
import { TunnelAgent } from './proxy.ts';
import { AccessError } from './types.ts';
import type { ExecResult, PodRef } from './types.ts';

/** Exec subprotocols in order of preference; v5 adds the close-channel signal. */
export const EXEC_SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
/** Default overall deadline of an exec. */
export const DEFAULT_EXEC_TIMEOUT_MS = 20_000;
/** Default bound on stdout + stderr: Envoy /clusters and istiod syncz of a 10,000-pod cluster run to tens of MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

/** What to run where. */
export interface ExecRequest {
  pod: PodRef;
  container: string;
  command: string[];
  /** Overall deadline including the handshake. */
  timeoutMs?: number;
  /** Deadline of the WebSocket handshake alone (default: min(10 s, timeoutMs)). */
  handshakeTimeoutMs?: number;
  signal?: AbortSignal;
  maxOutputBytes?: number;
}

/** Run a command in a container and wait for its exit status. Failures are AccessErrors. */
export async function execInPod(endpoint: KubeEndpoint, req: ExecRequest): Promise<ExecResult> {
  const timeoutMs = req.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const query = new URLSearchParams({ container: req.container, stdout: 'true', stderr: 'true' });
  for (const part of req.command) query.append('command', part);
  const path = `/api/v1/namespaces/${encodeURIComponent(req.pod.namespace)}/pods/${encodeURIComponent(req.pod.name)}/exec?${query}`;
  const where = `${req.pod.namespace}/${req.pod.name}`;
  const maxOutput = req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

  // Each channel decoded frame by frame into one (rope) string (a UTF-8 sequence split across frames
  // is kept whole): no Buffer.concat copy of a 36 MB istiod debug body before its decoding (issue 19).
  const stdout = { decoder: new StringDecoder('utf8'), text: '' };
  const stderr = { decoder: new StringDecoder('utf8'), text: '' };
  let outputBytes = 0;
  return openChannelSocket(endpoint, path, EXEC_SUBPROTOCOLS, { timeoutMs, handshakeTimeoutMs: req.handshakeTimeoutMs, signal: req.signal, what: `exec in ${where}` }, (frame, finish) => {
    const channel = frame[0];
    const data = frame.subarray(1);
    if (channel === STDOUT || channel === STDERR) {
      outputBytes += data.length;
      if (outputBytes > maxOutput) {
        finish(new AccessError('bad-response', endpoint.cluster, `exec in ${where}: output exceeds ${maxOutput} bytes`));
        return;
      }
      const stream = channel === STDOUT ? stdout : stderr;
      stream.text += stream.decoder.write(data);
    } else if (channel === STATUS) {
      const result = (exitCode: number): ExecResult => ({
        exitCode,
        stdout: stdout.text + stdout.decoder.end(),
        stderr: stderr.text + stderr.decoder.end(),
      });
      const parsed = parseExecStatus(data.toString('utf8'));
      finish(parsed.error !== undefined ? new AccessError('bad-response', endpoint.cluster, `exec in ${where} failed: ${parsed.error}`) : result(parsed.exitCode));
    }
  });
}

/** The exit code in a channel-3 Status, or why the exec failed. Exported for tests. */
export function parseExecStatus(text: string): { exitCode: number; error?: undefined } | { exitCode?: undefined; error: string } {
  let status: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    status = JSON.parse(text);
  } catch {
    return { error: `unreadable exec status: ${text.slice(0, 200)}` };
  }
  if (status.status === 'Success') return { exitCode: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code };
  }
  return { error: status.message ?? `status ${status.status ?? 'unknown'}` };
}

/** Options of a channel WebSocket session. */
export interface ChannelSocketOptions {
  timeoutMs: number;
  handshakeTimeoutMs?: number;
  signal?: AbortSignal;
  /** For messages: `exec in ns/pod`, `port-forward to ns/pod:15014`. */
  what: string;
  /** Called once open (e.g. to send a request through a port-forward). */
  onOpen?: (socket: WebSocket) => void;
  /** Called on close without an outcome; returns the outcome (default: "closed without a status"). */
  onClose?: () => unknown;
}

/** A frame handler: `finish(value | AccessError)` settles the session and closes the socket. */
export type FrameHandler<T> = (frame: Buffer, finish: (outcome: T | AccessError) => void) => void;

/**
 * Open a `*.channel.k8s.io` WebSocket to an API subresource (exec, portforward) with a handshake
 * timeout, an overall deadline and abort support; frames go to `onFrame` until it calls `finish`.
 */
export async function openChannelSocket<T>(endpoint: KubeEndpoint, path: string, protocols: string[], opts: ChannelSocketOptions, onFrame: FrameHandler<T>): Promise<T> {
  const { cluster } = endpoint;
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
  const tls = await connectionOptions(endpoint, opts.timeoutMs);
  const url = endpoint.server.replace(/^http/, 'ws') + path;
  const handshakeTimeout = Math.min(opts.handshakeTimeoutMs ?? 10_000, opts.timeoutMs);

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    // ws forwards these TLS options to tls.connect (servername: the kubeconfig's tls-server-name).
    const socket = new WebSocket(url, protocols, {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      ...({ servername: (tls as { servername?: string }).servername } as object),
      rejectUnauthorized: tls.rejectUnauthorized,
      headers: tls.headers as Record<string, string> | undefined,
      auth: tls.auth ?? undefined,
      handshakeTimeout,
      maxPayload: 16 * 1024 * 1024,
      // An endpoint from cluster data connects only where its lookup guard lets it (local-address.ts).
      ...(tls.lookup ? { lookup: tls.lookup } : {}),
      // Through the operator's proxy, when the kubeconfig or the environment names one.
      ...(endpoint.proxy ? { agent: new TunnelAgent(endpoint.proxy) } : {}),
    });

    const finish = (outcome: T | AccessError | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      opts.signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
      // terminate, not close: a hung peer would hold a graceful close open.
      socket.terminate();
    };
    const deadline = setTimeout(() => {
      finish(new AccessError('timeout', cluster, `${opts.what}: no result within ${seconds(opts.timeoutMs)}`));
    }, opts.timeoutMs);
    const onAbort = (): void => finish(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error(`${opts.what}: aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('unexpected-response', (request: ClientRequest, response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => finish(upgradeError(cluster, opts.what, response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      response.on('error', () => finish(upgradeError(cluster, opts.what, response.statusCode ?? 0, '')));
      void request;
    });
    socket.on('open', () => opts.onOpen?.(socket));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? data : Buffer.from(data.toString('utf8'));
      if (frame.length > 0) onFrame(frame, finish);
    });
    socket.on('error', (err: Error) => {
      if (err instanceof LocalAddressRefused) {
        finish(new LocalAddressRefused(cluster, `${opts.what}: ${err.refusal}`));
      } else if (/handshake has timed out/i.test(err.message)) {
        finish(new AccessError('timeout', cluster, `${opts.what}: WebSocket handshake with ${endpoint.server} timed out after ${seconds(handshakeTimeout)}`));
      } else {
        finish(new AccessError('unreachable', cluster, `${opts.what}: unreachable: ${endpoint.server}: ${firstLine(err)}`));
      }
    });
    socket.on('close', () => {
      if (settled) return;
      const outcome = opts.onClose?.();
      finish(outcome === undefined ? new AccessError('bad-response', cluster, `${opts.what}: exec closed without a status`) : (outcome as T | AccessError));
    });
  });
}

/** A refused upgrade, mapped like an API answer: 401, 403, 404, anything else. */
function upgradeError(cluster: string, what: string, status: number, body: string): AccessError {
  const detail = statusMessage(body);
  if (status === 401) return new AccessError('unauthorized', cluster, `unauthorized: ${what}: the API server rejected the credentials`);
  if (status === 403) return new AccessError('forbidden', cluster, `forbidden: ${what}${detail ? `: ${detail}` : ''}`);
  if (status === 404) return new AccessError('not-found', cluster, `${what}: not found${detail ? `: ${detail}` : ''}`);
  return new AccessError('bad-response', cluster, `${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
}
