// "Fast by design": a whole run reads each kind with one paginated list per cluster (limit=500,
// continue), shared by every check, whatever the number of checks that need it. Counted in the lab's
// audit log of real HTTPS requests.
import { describe, expect, it } from 'vitest';
import { startCliLab } from './cli-lab.ts';
import { runCliInProcess } from './run-cli.ts';

describe('one paginated list per kind per cluster', () => {
  it('reads pods of a 1,300-pod cluster in 3 pages, once, for all checks', async () => {
    const lab = await startCliLab({ scenario: 'multi-primary', scale: { namespaces: 2, servicesPerNamespace: 13, podsPerService: 50 } });
    try {
      const run = await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '-o', 'json']);
      expect([0, 1]).toContain(run.exitCode);
      for (const server of lab.servers) {
        const lists = server.audit.filter((e) => e.verb === 'list' && e.method === 'GET');
        const podPages = lists.filter((e) => /^\/api\/v1\/pods\?/.test(e.path));
        // Every page asks for 500; the first without a continue token, the others with one.
        expect(podPages.every((e) => /[?&]limit=500\b/.test(e.path))).toBe(true);
        expect(podPages.filter((e) => !/[?&]continue=/.test(e.path))).toHaveLength(1);
        expect(podPages.length).toBeGreaterThanOrEqual(3);
        // No kind is listed cluster-wide twice from the first page (the reader shares one list).
        const firstPages = lists.filter((e) => !/[?&]continue=/.test(e.path)).map((e) => e.path.split('?')[0]);
        const repeated = firstPages.filter((path, i) => firstPages.indexOf(path) !== i);
        expect(repeated, `${server.cluster} listed twice: ${repeated.join(', ')}`).toEqual([]);
      }
    } finally {
      await lab.stop();
    }
  });
});
