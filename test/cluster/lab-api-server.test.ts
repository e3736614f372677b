// The live reader against the lab's real API server (src/lab/server) with a hand-written backend:
// lists, RBAC 403, exec and the port-forward fallback over the same wire protocol a cluster speaks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSnapshot } from '../../src/cluster/snapshot.ts';
import { writeSnapshot } from '../../src/cluster/snapshot-writer.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { createLiveReader } from '../../src/cluster/live-reader.ts';
import type { KubeObject, ResourceKindName } from '../../src/cluster/types.ts';
import { startApiServer } from '../../src/lab/server/index.ts';
import type { LabApiServer, LabBackend, LabUser } from '../../src/lab/types.ts';

const ADMIN = 'admin-token';
const LIMITED = 'limited-token';

const istiod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'istio-system', name: 'istiod-1', labels: { app: 'istiod', 'istio.io/rev': 'default' } },
  spec: { containers: [{ name: 'discovery' }] },
  status: { phase: 'Running' },
};
const objects: Partial<Record<ResourceKindName, KubeObject[]>> = {
  pods: [istiod],
  secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'istio-system', name: 'cacerts' }, data: {} }],
  namespaces: Array.from({ length: 1203 }, (_, i) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${String(i).padStart(4, '0')}` } })),
};

const users = new Map<string, LabUser>([
  [ADMIN, { name: 'admin', groups: ['system:masters'] }],
  [LIMITED, { name: 'reader', groups: [], forbidden: ['secrets', 'pods'] }],
]);

const backend: LabBackend = {
  cluster: 'lab1',
  authenticate: (token) => users.get(token),
  list: (kind) => objects[kind] ?? [],
  exec: async (req) => {
    if (req.command.join(' ') === 'pilot-discovery request GET /debug/syncz') return { exitCode: 0, stdout: '[{"cluster_id":"lab1"}]', stderr: '' };
    return { exitCode: 3, stdout: '', stderr: 'unknown' };
  },
  portForward: (_ns, _pod, port) => (port === 15014 ? (_req, res) => res.end('[]') : undefined),
  // 6,000 lines, one a second up to now (the sinceSeconds filter is the backend's, on its own clock).
  log: (_ns, _pod, container, sinceSeconds) => {
    if (container !== 'discovery') return [];
    const lines = Array.from({ length: 6000 }, (_, i) => `2026-05-01T00:00:00.000000Z\tinfo\tads\tline ${i}`);
    logSince.push(sinceSeconds);
    return lines;
  },
};
const logSince: (number | undefined)[] = [];

describe('live reader against the lab API server', () => {
  let server: LabApiServer;
  beforeAll(async () => {
    server = await startApiServer({ cluster: 'lab1' });
    server.setBackend(backend);
  });
  afterAll(async () => {
    await server.stop();
  });

  function reader(token: string) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'lab1', server: server.endpoint.server, caData: Buffer.from(server.endpoint.caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'lab1', cluster: 'lab1', user: 'u' }],
      currentContext: 'lab1',
    });
    return createLiveReader({ name: 'lab1', context: 'lab1', kubeConfig: kc, istioNamespace: 'istio-system' });
  }

  it('reads istiod\'s discovery log window through pods/log: sinceSeconds, tailLines and limitBytes asked, tailLines honoured', async () => {
    const [log] = await reader(ADMIN).istiodLogs();
    expect(log.pod).toBe('istiod-1');
    const lines = log.text.trimEnd().split('\n');
    expect(lines.length).toBe(5000);
    expect(lines[0]).toMatch(/line 1000$/);
    expect(logSince).toContain(1800);
    const request = server.audit.find((a) => a.path.startsWith('/api/v1/namespaces/istio-system/pods/istiod-1/log?'));
    expect(new URL(request!.path, 'https://x').searchParams.get('container')).toBe('discovery');
    expect(new URL(request!.path, 'https://x').searchParams.get('limitBytes')).toBe(String(4 * 1024 * 1024));
    await expect(reader(LIMITED).istiodLogs()).rejects.toMatchObject({ reason: 'forbidden' });
  });

  it('lists across pages, execs istiod debug, and maps RBAC denials', async () => {
    const admin = reader(ADMIN);
    const namespaces = await admin.list('namespaces');
    expect(namespaces.length).toBe(1203);
    // 500 first, then the 703 the server says remain in one page (issue 19: up to LIST_PAGE_MAX per page).
    expect(server.audit.filter((a) => a.path.startsWith('/api/v1/namespaces?')).map((a) => new URL(a.path, 'https://x').searchParams.get('limit'))).toEqual(['500', '703']);

    expect(await admin.istiodDebug('syncz')).toEqual([{ pod: 'istiod-1', namespace: 'istio-system', revision: 'default', body: '[{"cluster_id":"lab1"}]' }]);
    expect((await admin.exec({ namespace: 'istio-system', name: 'istiod-1' }, 'discovery', ['x'])).exitCode).toBe(3);
    expect(await admin.version()).toMatchObject({ gitVersion: expect.stringMatching(/^v1\./) });

    const limited = reader(LIMITED);
    await expect(limited.list('secrets', { namespace: 'istio-system' })).rejects.toMatchObject({ reason: 'forbidden', message: 'forbidden: cannot list secrets in istio-system' });
    expect(server.audit.some((a) => a.verb === 'proxy')).toBe(false);
  });

  it('captures a snapshot the reader opens (failed exec falls back to port-forward)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshdoctor-lab-snap-'));
    try {
      const target = path.join(dir, 'snap');
      const result = await writeSnapshot(target, { capturedAt: new Date(), istioNamespace: 'istio-system', clusters: [reader(ADMIN)] });
      expect(result.skipped).toEqual([]);
      const [lab1] = (await openSnapshot(target)).clusters;
      expect((await lab1.list('namespaces')).length).toBe(1203);
      expect((await lab1.istiodDebug('syncz'))[0].body).toBe('[{"cluster_id":"lab1"}]');
      // registryz: exec exits 3 in this backend, so the body came through port-forward to 15014.
      expect((await lab1.istiodDebug('registryz'))[0].body).toBe('[]');
      expect(server.audit.some((a) => a.verb === 'portforward')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
