// The lab served in its own process for `npm run bench`, so that its CPU is measured apart from
// meshdoctor's (both share the machine's cores). Argument: a JSON StartLabOptions (plus kubeconfigPath).
// Prints one JSON line {ready, clusters} when serving, then answers stdin lines:
//   "stats" -> one JSON line: this process's CPU since the last "stats", and per cluster the requests
//              (by verb, with their receive times) and response bytes on the wire since then; resets both.
//   "quit"  -> stops the lab and exits.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { startLab, type StartLabOptions } from '../src/lab/index.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as StartLabOptions;
// Bytes written per listening port: counted as sockets close and, for open ones, at each "stats".
const bytesByPort = new Map<number, number>();
const open = new Map<Socket, number>();
const portOfSocket = new WeakMap<Socket, number>();
function count(socket: Socket): void {
  open.set(socket, 0);
  const port = socket.localPort ?? 0; // unset once closed
  portOfSocket.set(socket, port);
  socket.on('close', () => {
    bytesByPort.set(port, (bytesByPort.get(port) ?? 0) + socket.bytesWritten - (open.get(socket) ?? 0));
    open.delete(socket);
  });
}

const lab = await startLab(opts);
// The API server's listener is not part of LabApiServer's interface; the bench reads it to count bytes.
for (const s of lab.servers) (s as unknown as { server: Server }).server.on('connection', count);
const portOf = new Map(lab.clusters.map((c) => [Number(new URL(c.server).port), c.name]));
let cpu = process.cpuUsage();
for (const s of lab.servers) s.audit.length = 0;
process.stdout.write(`${JSON.stringify({ ready: true, clusters: lab.clusters.map((c) => ({ name: c.name, server: c.server })) })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    for (const [socket, counted] of open) {
      const port = portOfSocket.get(socket) ?? 0;
      bytesByPort.set(port, (bytesByPort.get(port) ?? 0) + socket.bytesWritten - counted);
      open.set(socket, socket.bytesWritten);
    }
    const clusters = lab.servers.map((s) => {
      const entries = s.audit.splice(0);
      const port = [...portOf].find(([, name]) => name === s.cluster)?.[0] ?? -1;
      const bytes = bytesByPort.get(port) ?? 0;
      bytesByPort.set(port, 0);
      return { cluster: s.cluster, requests: entries.length, bytes, entries: entries.map((e) => ({ t: Date.parse(e.time), verb: e.verb, path: e.path })) };
    });
    process.stdout.write(`${JSON.stringify({ cpuMs: (used.user + used.system) / 1000, clusters })}\n`);
  } else if (line === 'quit') {
    break;
  }
}
await lab.stop();
process.exit(0);
