// `meshdoctor snapshot --out DIR`: capture what the checks read, secrets redacted, for offline runs.
import { resolve } from 'node:path';
import { nowOf, type CliIO } from './io.ts';
import { shellQuote, terminalText } from '../reporters/sanitize.ts';

export interface SnapshotArgs {
  kubeconfig?: string;
  context?: string[];
  istioNamespace: string;
  allowLoopbackRemoteSecrets?: boolean;
  out: string;
  maxProxies: number;
}

export async function snapshotCommand(args: SnapshotArgs, io: CliIO): Promise<number> {
  const { connectClusters } = await import('../cluster/connect.ts');
  const { writeSnapshot } = await import('../cluster/snapshot-writer.ts');
  const connected = await connectClusters({
    kubeconfigPath: args.kubeconfig ? resolve(io.cwd, args.kubeconfig) : undefined,
    contexts: args.context,
    istioNamespace: args.istioNamespace,
    env: io.env,
    allowLoopbackRemoteSecrets: args.allowLoopbackRemoteSecrets,
  });
  for (const note of connected.notes) io.stderr.write(`note: ${terminalText(note)}\n`);
  const dir = resolve(io.cwd, args.out);
  const written = await writeSnapshot(dir, { capturedAt: nowOf(io), istioNamespace: args.istioNamespace, clusters: connected.readers }, { maxProxies: args.maxProxies });
  for (const { cluster, reason } of written.unreachable) {
    io.stderr.write(terminalText(`warning: cluster ${cluster} did not answer (${reason}): recorded as unreachable in the snapshot, nothing of it captured`) + '\n');
  }
  io.stderr.write(`snapshot of ${connected.readers.length} cluster(s) written to ${terminalText(dir)} (secret values redacted)\n`);
  io.stderr.write(`analyze it with: meshdoctor all --snapshot ${terminalText(shellQuote(args.out))}\n`);
  // Like a run whose checks could not all run: the capture is incomplete (exit 3).
  return written.unreachable.length > 0 ? 3 : 0;
}
