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

/**
 * The frames of `data` on a channel: every FRAME_BYTES of it behind the channel byte, all in one
 * allocation (issue 19: a frame each from Buffer.concat, for the 41 MB istiod debug bodies of a
 * 10,000-pod cluster, cost the lab more CPU than sending them). A string is encoded straight into
 * place: written after room for the channel bytes, then each chunk moved down by memmove.
 */
export function framesOf(channel: number, data: Buffer | string): Buffer[] {
  const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  const count = Math.ceil(length / FRAME_BYTES);
  if (count === 0) return [];
  const all = Buffer.allocUnsafeSlow(length + count);
  if (typeof data === 'string') all.write(data, count);
  else data.copy(all, count);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // Chunk i sits at count + i*FRAME_BYTES; its frame starts at i*(FRAME_BYTES+1), never later.
    const from = count + i * FRAME_BYTES;
    const size = Math.min(FRAME_BYTES, length - i * FRAME_BYTES);
    const start = i * (FRAME_BYTES + 1);
    all.copyWithin(start + 1, from, from + size);
    all[start] = channel;
    frames.push(all.subarray(start, start + 1 + size));
  }
  return frames;
}

/** Send `data` on a channel, split into frames. */
export function sendOnChannel(ws: WebSocket, channel: number, data: Buffer | string): void {
  for (const frame of framesOf(channel, data)) ws.send(frame);
}

/**
 * stdout frames of outcomes the backend hands out frozen (an istiod debug body, the same object on
 * every read while what it shows is unchanged): framed once. ws sends a server's frames unmasked,
 * so the shared buffers are never written to.
 */
const stdoutFrames = new WeakMap<object, Buffer[]>();
function stdoutFramesOf(outcome: { stdout?: string }): Buffer[] {
  if (!Object.isFrozen(outcome)) return framesOf(STDOUT, outcome.stdout ?? '');
  let frames = stdoutFrames.get(outcome);
  if (!frames) stdoutFrames.set(outcome, (frames = framesOf(STDOUT, outcome.stdout ?? '')));
  return frames;
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

/** Frames handed to the socket before waiting for one of them to be written. */
const FRAMES_IN_FLIGHT = 2;

/**
 * Send frames as the socket takes them, then `then()` (never if the socket closes first). Handed to
 * ws all at once, the frames of a 41 MB body queued on the socket and went out as one write: copied
 * into one buffer and encrypted into another, three times the lab's CPU of writes as it goes (issue 19).
 */
function sendPaced(ws: WebSocket, frames: Buffer[], then: () => void): void {
  let next = 0;
  let inFlight = 0;
  const pump = (): void => {
    while (next < frames.length && inFlight < FRAMES_IN_FLIGHT) {
      if (ws.readyState !== ws.OPEN) return;
      inFlight++;
      ws.send(frames[next++], (err) => {
        inFlight--;
        if (!err) pump();
      });
    }
    if (next === frames.length && inFlight === 0) {
      next++; // once
      if (ws.readyState === ws.OPEN) then();
    }
  };
  pump();
}

function deliver(ws: WebSocket, command: string[], outcome: LabExecOutcome, streams: ExecStreams): void {
  if (ws.readyState !== ws.OPEN) return;
  // A hung command answers nothing: the socket stays open until the client gives up or stop().
  if ('hang' in outcome) return;
  const stdout = outcome.stdout && streams.stdout ? stdoutFramesOf(outcome) : [];
  if ('closeWithoutStatus' in outcome) {
    sendPaced(ws, stdout, () => ws.close(1000));
    return;
  }
  sendPaced(ws, stdout, () => {
    if (outcome.stderr && streams.stderr) sendOnChannel(ws, STDERR, outcome.stderr);
    ws.send(Buffer.concat([Buffer.from([STATUS]), Buffer.from(JSON.stringify(execStatus(command, outcome.exitCode)))]));
    ws.close(1000);
  });
}
