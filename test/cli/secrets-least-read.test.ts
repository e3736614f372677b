// meshdoctor reads Secrets only where istiod reads them (its namespace, an external istiod's), per
// namespace: never a cluster-wide list of every application's credentials, neither in a run nor in
// a snapshot capture. Read from the lab's audit log of the real HTTPS requests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCliLab } from './cli-lab.ts';
import { runCliInProcess } from './run-cli.ts';

/** The namespaces of every Secret request, `*` for a cluster-wide one. */
function secretNamespaces(paths: string[]): string[] {
  const namespaces = paths.flatMap((p) => {
    const url = new URL(p, 'https://x');
    if (url.pathname === '/api/v1/secrets') return ['*'];
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(\/|$)/.exec(url.pathname);
    return m ? [m[1]] : [];
  });
  return [...new Set(namespaces)].sort();
}

describe('Secrets are read only where istiod reads them', () => {
  for (const [scenario, expected] of [
    ['multi-primary', ['istio-system']],
    ['external-control-plane', ['external-istiod', 'istio-system']],
  ] as const) {
    it(`${scenario}: meshdoctor all and meshdoctor snapshot`, async () => {
      const lab = await startCliLab({ scenario });
      const out = await mkdtemp(path.join(tmpdir(), 'meshdoctor-secrets-'));
      try {
        const run = await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '-o', 'json']);
        expect([0, 1]).toContain(run.exitCode);
        const audited = () => lab.servers.flatMap((s) => s.audit.map((e) => e.path));
        const read = secretNamespaces(audited());
        expect(read).not.toContain('*');
        for (const ns of read) expect(expected).toContain(ns);
        for (const server of lab.servers) server.audit.length = 0;

        const snap = await runCliInProcess(['snapshot', '--kubeconfig', lab.kubeconfigPath, '--out', path.join(out, 'snap')]);
        expect(snap.exitCode).toBe(0);
        const captured = secretNamespaces(audited());
        expect(captured).not.toContain('*');
        for (const ns of captured) expect(expected).toContain(ns);
      } finally {
        await lab.stop();
        await rm(out, { recursive: true, force: true });
      }
    });
  }
});
