// `pods/exec` over WebSocket, as the kubelet speaks it behind the API server (channel.k8s.io
// protocols): each binary frame starts with a channel byte. 0 stdin, 1 stdout, 2 stderr, 3 the final
// Status, 4 resize; v5 adds 255 = "close this channel" (the client's stdin EOF).
import type { WebSocket } from 'ws';
import type { LabBackend, LabExecOutcome, LabExecRequest } from '../types.ts';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;
export const CLOSE_SIGNAL = 255;

/** Subprotocols for exec in order of preference. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** Large outputs go out in frames of this size, as the kubelet streams them. */
const FRAME_BYTES = 64 * 1024;

/** With v4 there is no stdin EOF signal: run with what arrived within this grace period. */
const V4_STDIN_GRACE_MS = 100;

/** Send `data` on a channel, split into frames. */
export function sendOnChannel(ws: WebSocket, channel: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; offset += FRAME_BYTES) {
    const chunk = data.subarray(offset, offset + FRAME_BYTES);
    ws.send(Buffer.concat([Buffer.from([channel]), chunk]));
  }
}

/** The Status the kubelet writes on channel 3 for a command's outcome. */
export function execStatus(command: string[], exitCode: number): unknown {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** What the client asked to receive. */
export interface ExecStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** Run one exec session on an open WebSocket: gather stdin if asked, run, stream results, close. */
export function runExecSession(ws: WebSocket, backend: LabBackend, request: Omit<LabExecRequest, 'stdin'>, streams: ExecStreams): void {
  const stdinChunks: Buffer[] = [];
  let started = false;

  const start = (): void => {
    if (started) return;
    started = true;
    const stdin = streams.stdin ? Buffer.concat(stdinChunks).toString('utf8') : undefined;
    backend
      .exec({ ...request, ...(stdin !== undefined ? { stdin } : {}) })
      .then((outcome) => deliver(ws, request.command, outcome, streams))
      .catch((err: unknown) => {
        if (ws.readyState !== ws.OPEN) return;
        const message = err instanceof Error ? err.message : String(err);
        ws.send(Buffer.concat([Buffer.from([STATUS]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError' }))]));
        ws.close(1000);
      });
  };

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? data : Buffer.from(data.toString('utf8'));
    if (frame.length === 0) return;
    const channel = frame[0];
    if (channel === STDIN) stdinChunks.push(frame.subarray(1));
    else if (channel === CLOSE_SIGNAL && frame[1] === STDIN) start();
    // Resize (4) and anything else: nothing to do for a non-interactive lab command.
  });

  if (!streams.stdin) start();
  else if (ws.protocol !== 'v5.channel.k8s.io') setTimeout(start, V4_STDIN_GRACE_MS).unref();
}

function deliver(ws: WebSocket, command: string[], outcome: LabExecOutcome, streams: ExecStreams): void {
  if (ws.readyState !== ws.OPEN) return;
  // A hung command answers nothing: the socket stays open until the client gives up or stop().
  if ('hang' in outcome) return;
  if ('closeWithoutStatus' in outcome) {
    if (outcome.stdout && streams.stdout) sendOnChannel(ws, STDOUT, Buffer.from(outcome.stdout));
    ws.close(1000);
    return;
  }
  if (outcome.stdout && streams.stdout) sendOnChannel(ws, STDOUT, Buffer.from(outcome.stdout));
  if (outcome.stderr && streams.stderr) sendOnChannel(ws, STDERR, Buffer.from(outcome.stderr));
  ws.send(Buffer.concat([Buffer.from([STATUS]), Buffer.from(JSON.stringify(execStatus(command, outcome.exitCode)))]));
  ws.close(1000);
}
