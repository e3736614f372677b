// Every request meshdoctor makes says who makes it (as kubectl's `kubectl/v1.32.0 (linux/amd64) ...`):
// plain requests, the exec and port-forward WebSockets, and the remote-api-access probes made with a
// remote secret's own (inline) credentials. Read from the lab's audit log of the real HTTPS requests.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_READINESS_USER_AGENT } from '../../src/lab/index.ts';
import { USER_AGENT } from '../../src/version.ts';
import { startCliLab } from './cli-lab.ts';
import { runCliInProcess } from './run-cli.ts';

describe('User-Agent', () => {
  it('is meshdoctor/<version> (<os>/<arch>)', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(USER_AGENT).toBe(`meshdoctor/${version} (${process.platform}/${process.arch})`);
  });

  it('is sent on every API request, exec and port-forward of a run', async () => {
    const lab = await startCliLab({ scenario: 'ambient-multi-network' }); // ztunnel's admin is read by port-forward
    try {
      const run = await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '-o', 'json']);
      expect(run.exitCode).toBe(0);
      const entries = lab.servers.flatMap((server) => server.audit).filter((e) => e.userAgent !== LAB_READINESS_USER_AGENT);
      const verbs = new Set(entries.map((e) => e.verb));
      for (const verb of ['list', 'get', 'create', 'exec', 'portforward']) expect(verbs, verb).toContain(verb);
      // The peer's API server also answered the remote secrets' credentials (user is the secret's SA).
      expect(entries.some((e) => e.user.includes('istio-reader'))).toBe(true);
      const others = entries.filter((e) => e.userAgent !== USER_AGENT).map((e) => `${e.verb} ${e.path} ${e.userAgent}`);
      expect(others).toEqual([]);
    } finally {
      await lab.stop();
    }
  });
});
