// `pods/portforward` over WebSocket (v4.channel.k8s.io), as @kubernetes/client-node's PortForward
// speaks it: for the i-th requested port, channel 2i carries data and 2i+1 errors; the first frame
// the server sends on each channel is the port number (2 bytes, little-endian). Data of a port is
// bridged into an in-memory HTTP server running the backend's handler for that port.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { sendOnChannel } from './exec-session.ts';

/** Subprotocols for port-forward in order of preference (the kubelet speaks v4 for it). */
export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io'];

export type PortHandler = (req: IncomingMessage, res: ServerResponse) => void;

function portPrefix(channel: number, port: number): Buffer {
  const frame = Buffer.alloc(3);
  frame[0] = channel;
  frame.writeUInt16LE(port, 1);
  return frame;
}

/** A socket-like stream whose writes go out on a data channel and whose reads come from it. */
class ChannelStream extends Duplex {
  private readonly ws: WebSocket;
  private readonly channel: number;

  constructor(ws: WebSocket, channel: number) {
    super();
    this.ws = ws;
    this.channel = channel;
  }

  override _read(): void {
    // Data is pushed as frames arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) sendOnChannel(this.ws, this.channel, chunk);
    callback();
  }

  // node:http calls these on real sockets; an in-memory stream has nothing to tune.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

/**
 * Serve a port-forward session on an open WebSocket. `handlerFor(port)` is the backend's handler,
 * undefined when nothing listens on the port (the error channel says so and the session closes).
 */
export function runPortForwardSession(ws: WebSocket, ports: number[], handlerFor: (port: number) => PortHandler | undefined, describePod: string): void {
  const streams = new Map<number, ChannelStream>();
  let failed = false;
  ports.forEach((port, i) => {
    const dataChannel = 2 * i;
    const errorChannel = dataChannel + 1;
    ws.send(portPrefix(dataChannel, port));
    ws.send(portPrefix(errorChannel, port));
    const handler = handlerFor(port);
    if (!handler) {
      failed = true;
      const message = `error forwarding port ${port} to pod ${describePod}: failed to connect to localhost:${port} inside namespace of pod: connection refused`;
      sendOnChannel(ws, errorChannel, Buffer.from(message));
      return;
    }
    const stream = new ChannelStream(ws, dataChannel);
    streams.set(dataChannel, stream);
    createServer(handler).emit('connection', stream);
  });
  if (failed && streams.size === 0) {
    ws.close(1000);
    return;
  }
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? data : Buffer.from(data.toString('utf8'));
    if (frame.length === 0) return;
    streams.get(frame[0])?.push(frame.subarray(1));
  });
  ws.on('close', () => {
    for (const stream of streams.values()) {
      stream.push(null);
      stream.destroy();
    }
  });
}
