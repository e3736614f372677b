// "Fast by design": a whole run reads each kind with one paginated list per cluster (limit=500, then
// pages of what the server says remains, up to LIST_PAGE_MAX, with continue), shared by every check,
// whatever the number of checks that need it. Counted in the lab's audit log of real HTTPS requests.
import { describe, expect, it } from 'vitest';
import { LIST_PAGE_MAX, LIST_PAGE_SIZE } from '../../src/cluster/live-reader.ts';
import { startCliLab } from './cli-lab.ts';
import { runCliInProcess } from './run-cli.ts';

describe('one paginated list per kind per cluster', () => {
  it('reads pods of a 1,300-pod cluster in 2 pages, once, for all checks', async () => {
    const lab = await startCliLab({ scenario: 'multi-primary', scale: { namespaces: 2, servicesPerNamespace: 13, podsPerService: 50 } });
    try {
      const run = await runCliInProcess(['all', '--kubeconfig', lab.kubeconfigPath, '--context', 'cluster1', '--context', 'cluster2', '-o', 'json']);
      expect([0, 1]).toContain(run.exitCode);
      for (const server of lab.servers) {
        const lists = server.audit.filter((e) => e.verb === 'list' && e.method === 'GET');
        const podPages = lists.filter((e) => /^\/api\/v1\/pods\?/.test(e.path));
        // The first page asks for 500 without a continue token; the rest (issue 19) come in one page
        // of what remained, with the token: 2 round trips where pages of 500 took 3.
        const limits = podPages.map((e) => Number(new URL(e.path, 'https://x').searchParams.get('limit')));
        expect(limits[0]).toBe(LIST_PAGE_SIZE);
        expect(podPages.filter((e) => !/[?&]continue=/.test(e.path))).toHaveLength(1);
        expect(podPages).toHaveLength(2);
        expect(limits[1]).toBeGreaterThan(LIST_PAGE_SIZE);
        expect(limits[1]).toBeLessThanOrEqual(LIST_PAGE_MAX);
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
