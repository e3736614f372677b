import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { RESOURCE_KINDS, listPath } from '../../../src/cluster/kinds.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startApiServer } from '../../../src/lab/server/index.ts';
import type { LabApiServer } from '../../../src/lab/types.ts';
import { ADMIN_TOKEN, FakeBackend, LIMITED, LIMITED_TOKEN } from './fake-backend.ts';
import { call } from './helpers.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const AGGREGATED_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

let server: LabApiServer;
let backend: FakeBackend;

beforeAll(async () => {
  server = await startApiServer({ cluster: 'cluster1' });
  backend = new FakeBackend();
  server.setBackend(backend);
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => server.setTransportFaults({}));

const admin = { token: ADMIN_TOKEN };
const limited = { token: LIMITED_TOKEN };

describe('listening and authentication', () => {
  it('listens on 127.0.0.1 only', async () => {
    expect(server.endpoint.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.endpoint.caPem).toContain('BEGIN CERTIFICATE');
    const port = Number(new URL(server.endpoint.server).port);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      await expect(
        new Promise((resolve, reject) => {
          const socket = connect(port, external.address, () => resolve(socket.destroy()));
          socket.on('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('answers 401 Status without a valid token, and records system:anonymous', async () => {
    for (const token of [undefined, 'wrong-token']) {
      const res = await call(server.endpoint, '/api/v1/pods', { token });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
    expect(server.audit.filter((a) => a.path === '/api/v1/pods' && a.status === 401).every((a) => a.user === 'system:anonymous')).toBe(true);
  });

  it('serves /version anonymously as Kubernetes 1.32', async () => {
    const res = await call(server.endpoint, '/version');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ major: '1', minor: '32' });
    expect(res.json.gitVersion).toMatch(/^v1\.32\./);
  });

  it('answers 503 before a backend is attached', async () => {
    const fresh = await startApiServer({ cluster: 'cold' });
    try {
      const res = await call(fresh.endpoint, '/api/v1/pods', admin);
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    } finally {
      await fresh.stop();
    }
  });
});

describe('discovery', () => {
  it('serves legacy discovery with kinds, verbs, short names and subresources', async () => {
    const core = await call(server.endpoint, '/api/v1', admin);
    expect(core.json.kind).toBe('APIResourceList');
    const pods = core.json.resources.find((r: { name: string }) => r.name === 'pods');
    expect(pods).toMatchObject({ kind: 'Pod', namespaced: true, singularName: 'pod', shortNames: ['po'] });
    expect(pods.verbs).toEqual(expect.arrayContaining(['get', 'list']));
    expect(core.json.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['pods/exec', 'pods/portforward', 'namespaces', 'secrets']));
    const groups = await call(server.endpoint, '/apis', admin);
    const istio = groups.json.groups.find((g: { name: string }) => g.name === 'networking.istio.io');
    expect(istio.versions.map((v: { version: string }) => v.version)).toEqual(['v1', 'v1beta1', 'v1alpha3']);
    expect(istio.preferredVersion.version).toBe('v1');
    const beta = await call(server.endpoint, '/apis/networking.istio.io/v1beta1', admin);
    expect(beta.json.resources.find((r: { name: string }) => r.name === 'gateways')).toMatchObject({ kind: 'Gateway', shortNames: ['gw'] });
    expect((await call(server.endpoint, '/apis/example.com/v1', admin)).status).toBe(404);
  });

  it('serves aggregated discovery when asked for it', async () => {
    const res = await call(server.endpoint, '/apis', { ...admin, accept: AGGREGATED_ACCEPT });
    expect(res.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(res.json.kind).toBe('APIGroupDiscoveryList');
    const security = res.json.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'security.istio.io');
    expect(security.versions.map((v: { version: string }) => v.version)).toEqual(['v1', 'v1beta1']);
    const core = await call(server.endpoint, '/api', { ...admin, accept: AGGREGATED_ACCEPT });
    const pods = core.json.items[0].versions[0].resources.find((r: { resource: string }) => r.resource === 'pods');
    expect(pods).toMatchObject({ scope: 'Namespaced', responseKind: { group: '', version: 'v1', kind: 'Pod' }, shortNames: ['po'] });
  });

  it('serves every kind at every version', async () => {
    for (const info of Object.values(RESOURCE_KINDS)) {
      for (const version of info.versions) {
        const res = await call(server.endpoint, listPath(info, version), admin);
        expect(res.status, `${info.group}/${version} ${info.plural}`).toBe(200);
        expect(res.json.kind).toBe(`${info.kind}List`);
        expect(res.json.apiVersion).toBe(info.group ? `${info.group}/${version}` : version);
      }
    }
  });
});

describe('get and list', () => {
  it('sets apiVersion to the version served at', async () => {
    const v1 = await call(server.endpoint, '/apis/networking.istio.io/v1/namespaces/istio-system/gateways/cross-network-gateway', admin);
    expect(v1.json.apiVersion).toBe('networking.istio.io/v1');
    const alpha = await call(server.endpoint, '/apis/networking.istio.io/v1alpha3/gateways', admin);
    expect(alpha.json.items[0].apiVersion).toBe('networking.istio.io/v1alpha3');
    expect(alpha.json.metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('filters by label and field selectors and rejects bad ones', async () => {
    const secrets = await call(server.endpoint, '/api/v1/namespaces/istio-system/secrets?labelSelector=istio%2FmultiCluster%3Dtrue', admin);
    expect(secrets.json.items.map((s: KubeObject) => s.metadata.name)).toEqual(['istio-remote-secret-cluster2']);
    const notin = await call(server.endpoint, `/api/v1/pods?labelSelector=${encodeURIComponent('app notin (istiod),!missing')}`, admin);
    expect(notin.json.items.map((p: KubeObject) => p.metadata.name)).toEqual(['helloworld-v1-7d8f9-xyz12']);
    const byName = await call(server.endpoint, '/api/v1/pods?fieldSelector=metadata.name%3Distiod-5d7f8b9c4-abcde', admin);
    expect(byName.json.items).toHaveLength(1);
    const byNamespace = await call(server.endpoint, '/api/v1/pods?fieldSelector=metadata.namespace!%3Dsample', admin);
    expect(byNamespace.json.items.map((p: KubeObject) => p.metadata.namespace)).toEqual(['istio-system']);
    const bad = await call(server.endpoint, '/api/v1/pods?labelSelector=app%20in%20x', admin);
    expect(bad.status).toBe(400);
    expect(bad.json.reason).toBe('BadRequest');
  });

  it('answers 404 NotFound for missing objects and unknown resources', async () => {
    const missing = await call(server.endpoint, '/api/v1/namespaces/sample/pods/nope', admin);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' }, code: 404 });
    const gw = await call(server.endpoint, '/apis/networking.istio.io/v1/namespaces/x/gateways/nope', admin);
    expect(gw.json.message).toBe('gateways.networking.istio.io "nope" not found');
    const unknown = await call(server.endpoint, '/api/v1/widgets', admin);
    expect(unknown.status).toBe(404);
    expect(unknown.json.reason).toBe('NotFound');
  });

  it('answers 403 with the real message shape for forbidden kinds and namespaces', async () => {
    const secrets = await call(server.endpoint, '/api/v1/namespaces/istio-system/secrets', limited);
    expect(secrets.status).toBe(403);
    expect(secrets.json).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(secrets.json.message).toBe(`secrets is forbidden: User "${LIMITED.name}" cannot list resource "secrets" in API group "" in the namespace "istio-system"`);
    const allPods = await call(server.endpoint, '/api/v1/pods', limited);
    expect(allPods.json.message).toBe(`pods is forbidden: User "${LIMITED.name}" cannot list resource "pods" in API group "" at the cluster scope`);
    const gw = await call(server.endpoint, '/apis/networking.istio.io/v1/namespaces/sample/gateways/x', limited);
    expect(gw.json.message).toBe(`gateways.networking.istio.io "x" is forbidden: User "${LIMITED.name}" cannot get resource "gateways" in API group "networking.istio.io" in the namespace "sample"`);
    const allowed = await call(server.endpoint, '/api/v1/namespaces/istio-system/pods', limited);
    expect(allowed.status).toBe(200);
  });

  it('refuses every write with 405 and audits it', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await call(server.endpoint, '/api/v1/namespaces/sample/pods/helloworld-v1-7d8f9-xyz12', { ...admin, method, body: method === 'DELETE' ? undefined : '{}' });
      expect(res.status, method).toBe(405);
      expect(res.json).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
    }
    const writes = server.audit.filter((a) => a.status === 405);
    expect(writes.map((a) => a.verb)).toEqual(expect.arrayContaining(['create', 'update', 'patch', 'delete']));
    expect(writes[0]).toMatchObject({ cluster: 'cluster1', user: 'lab-admin', path: '/api/v1/namespaces/sample/pods/helloworld-v1-7d8f9-xyz12' });
    expect(Date.parse(writes[0].time)).not.toBeNaN();
  });

  it('streams a watch as ADDED events until timeoutSeconds', async () => {
    const res = await call(server.endpoint, '/api/v1/namespaces/sample/pods?watch=1&timeoutSeconds=1', admin);
    const events = res.body.trim().split('\n').map((line) => JSON.parse(line));
    expect(events).toEqual([{ type: 'ADDED', object: expect.objectContaining({ kind: 'Pod', metadata: expect.objectContaining({ name: 'helloworld-v1-7d8f9-xyz12' }) }) }]);
    expect(server.audit.at(-1)).toMatchObject({ verb: 'watch', status: 200 });
  });

  it('audits reads with their verbs', async () => {
    await call(server.endpoint, '/api/v1/namespaces/sample/pods?limit=1', admin);
    const entry = server.audit.at(-1);
    expect(entry).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/sample/pods?limit=1', verb: 'list', status: 200, user: 'lab-admin' });
  });
});

describe('tables', () => {
  it('renders pods as a Table with wide columns and metadata objects', async () => {
    const res = await call(server.endpoint, '/api/v1/pods', { ...admin, accept: TABLE_ACCEPT });
    expect(res.json.kind).toBe('Table');
    expect(res.json.apiVersion).toBe('meta.k8s.io/v1');
    const columns = res.json.columnDefinitions.map((c: { name: string; priority: number }) => [c.name, c.priority]);
    expect(columns.slice(0, 7)).toEqual([['Name', 0], ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0], ['IP', 1], ['Node', 1]]);
    expect(res.json.rows).toHaveLength(2);
    expect(res.json.rows[1].cells.slice(0, 3)).toEqual(['helloworld-v1-7d8f9-xyz12', '2/2', 'Running']);
    expect(res.json.rows[1].object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { namespace: 'sample', labels: { app: 'helloworld' } } });
    const full = await call(server.endpoint, '/api/v1/pods?includeObject=Object', { ...admin, accept: TABLE_ACCEPT });
    expect(full.json.rows[0].object.kind).toBe('Pod');
    const none = await call(server.endpoint, '/api/v1/pods?includeObject=None', { ...admin, accept: TABLE_ACCEPT });
    expect(none.json.rows[0].object).toBeUndefined();
  });

  it('renders services with their columns, and single objects as one-row tables', async () => {
    const res = await call(server.endpoint, '/api/v1/namespaces/istio-system/services/istiod', { ...admin, accept: TABLE_ACCEPT });
    expect(res.json.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 6)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age']);
    expect(res.json.rows[0].cells.slice(0, 5)).toEqual(['istiod', 'ClusterIP', '10.96.0.10', '<none>', '15010/TCP,15014/TCP']);
  });
});

describe('access reviews and proxies', () => {
  it('answers SelfSubjectAccessReviews from the user limits', async () => {
    const review = (namespace: string, resource: string) =>
      JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace, verb: 'list', resource } } });
    const path = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
    const denied = await call(server.endpoint, path, { ...limited, method: 'POST', body: review('istio-system', 'secrets') });
    expect(denied.status).toBe(201);
    expect(denied.json.status.allowed).toBe(false);
    const ok = await call(server.endpoint, path, { ...limited, method: 'POST', body: review('istio-system', 'pods') });
    expect(ok.json.status.allowed).toBe(true);
    const otherNs = await call(server.endpoint, path, { ...limited, method: 'POST', body: review('sample', 'pods') });
    expect(otherNs.json.status.allowed).toBe(false);
    expect(server.audit.at(-1)).toMatchObject({ verb: 'create', status: 201 });
  });

  it('answers 401 with an empty body from istiod debug through pods/proxy and services/proxy', async () => {
    for (const path of [
      '/api/v1/namespaces/istio-system/pods/istiod-5d7f8b9c4-abcde:15014/proxy/debug/clusterz',
      '/api/v1/namespaces/istio-system/pods/istiod-5d7f8b9c4-abcde/proxy/debug/registryz',
      '/api/v1/namespaces/istio-system/services/istiod:http-monitoring/proxy/debug/clusterz',
      '/api/v1/namespaces/istio-system/services/istiod:15014/proxy/debug/clusterz',
    ]) {
      const res = await call(server.endpoint, path, admin);
      expect(res.status, path).toBe(401);
      expect(res.body).toBe('');
      expect(server.audit.at(-1)?.verb).toBe('proxy');
    }
    const missing = await call(server.endpoint, '/api/v1/namespaces/istio-system/pods/nope:15014/proxy/debug/clusterz', admin);
    expect(missing.status).toBe(404);
    const closed = await call(server.endpoint, '/api/v1/namespaces/sample/pods/helloworld-v1-7d8f9-xyz12:8080/proxy/', admin);
    expect(closed.status).toBe(503);
    expect(closed.json.message).toContain('connection refused');
    const forbiddenProxy = await call(server.endpoint, '/api/v1/namespaces/sample/pods/helloworld-v1-7d8f9-xyz12:15014/proxy/', limited);
    expect(forbiddenProxy.status).toBe(403);
  });
});

describe('transport faults', () => {
  it('fails matching paths with 500 InternalError', async () => {
    server.setTransportFaults({ failPaths: ['/api/v1/pods', /\/secrets$/] });
    const pods = await call(server.endpoint, '/api/v1/pods?limit=5', admin);
    expect(pods.status).toBe(500);
    expect(pods.json).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect((await call(server.endpoint, '/api/v1/namespaces/istio-system/secrets', admin)).status).toBe(500);
    expect((await call(server.endpoint, '/api/v1/services', admin)).status).toBe(200);
  });

  it('delays responses by latencyMs', async () => {
    server.setTransportFaults({ latencyMs: 150 });
    const started = performance.now();
    expect((await call(server.endpoint, '/api/v1/namespaces', admin)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('scale', () => {
  it('pages 10,000 pods in pages of 500, in order, each once', async () => {
    const big = await startApiServer({ cluster: 'big' });
    try {
      const pods: KubeObject[] = Array.from({ length: 10_000 }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${String(i).padStart(5, '0')}`, namespace: `ns-${i % 50}`, labels: { app: `app-${i % 3}` } },
        spec: { containers: [{ name: 'app' }] },
        status: { phase: 'Running' },
      }));
      const bigBackend = new FakeBackend('big', { pods });
      big.setBackend(bigBackend);
      const names: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const res = await call(big.endpoint, `/api/v1/pods?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`, admin);
        expect(res.status).toBe(200);
        names.push(...res.json.items.map((p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`));
        token = res.json.metadata.continue ?? '';
        pages++;
      } while (token);
      expect(pages).toBe(20);
      expect(new Set(names).size).toBe(10_000);
      expect([...names].sort()).toEqual(names);
    } finally {
      await big.stop();
    }
  });
});

describe('stop', () => {
  it('closes keep-alive connections and the listener', async () => {
    const temp = await startApiServer({ cluster: 'temp' });
    temp.setBackend(new FakeBackend());
    const agent = new Agent({ keepAlive: true, ca: temp.endpoint.caPem });
    let socketClosed = false;
    await new Promise<void>((resolve, reject) => {
      const req = httpsRequest(new URL('/api/v1/pods', temp.endpoint.server), { agent, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('socket', (s) => s.on('close', () => (socketClosed = true)));
      req.on('error', reject);
      req.end();
    });
    await temp.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(socketClosed).toBe(true);
    agent.destroy();
    const port = Number(new URL(temp.endpoint.server).port);
    await expect(
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket.destroy()));
        socket.on('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
