// A small LabBackend for the API server's tests: a handful of objects, two users and scripted exec.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, ResourceKindName } from '../../../src/cluster/types.ts';
import type { LabBackend, LabExecOutcome, LabExecRequest, LabUser } from '../../../src/lab/types.ts';

export const ADMIN_TOKEN = 'admin-token';
export const LIMITED_TOKEN = 'limited-token';
export const ADMIN: LabUser = { name: 'lab-admin', groups: ['system:masters'] };
/** Cannot read secrets anywhere; reads other kinds only in `istio-system`. */
export const LIMITED: LabUser = {
  name: 'system:serviceaccount:istio-system:istio-reader-service-account',
  groups: ['system:serviceaccounts'],
  forbidden: ['secrets'],
  namespaces: ['istio-system'],
};

const created = new Date(Date.now() - 3 * 3600_000).toISOString();

function pod(namespace: string, name: string, containers: string[], labels: Record<string, string>, ip: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, uid: `uid-${name}`, resourceVersion: '101', creationTimestamp: created },
    spec: {
      nodeName: 'node-1',
      containers: containers.map((c) => ({ name: c, image: `example/${c}:1` })),
      initContainers: [{ name: 'istio-init', image: 'istio/proxyv2:1.24.0' }],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: containers.map((c) => ({ name: c, ready: true, restartCount: 0, state: { running: {} } })),
    },
  };
}

/** The objects of the fake cluster, by kind. */
export function fakeObjects(): Partial<Record<ResourceKindName, KubeObject[]>> {
  return {
    namespaces: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system', labels: { 'topology.istio.io/network': 'network1' }, creationTimestamp: created }, status: { phase: 'Active' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sample', labels: { 'istio-injection': 'enabled' }, creationTimestamp: created }, status: { phase: 'Active' } },
    ],
    pods: [
      pod('istio-system', 'istiod-5d7f8b9c4-abcde', ['discovery'], { app: 'istiod', 'istio.io/rev': 'default' }, '10.10.0.5'),
      pod('sample', 'helloworld-v1-7d8f9-xyz12', ['helloworld', 'istio-proxy'], { app: 'helloworld', version: 'v1' }, '10.10.0.9'),
    ],
    services: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' }, creationTimestamp: created },
        spec: {
          type: 'ClusterIP',
          clusterIP: '10.96.0.10',
          selector: { app: 'istiod' },
          ports: [
            { name: 'grpc-xds', port: 15010, targetPort: 15010, protocol: 'TCP' },
            { name: 'http-monitoring', port: 15014, targetPort: 15014, protocol: 'TCP' },
          ],
        },
      },
    ],
    secrets: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'istio-remote-secret-cluster2', namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' }, creationTimestamp: created },
        type: 'Opaque',
        data: { cluster2: Buffer.from('apiVersion: v1\nkind: Config\n').toString('base64') },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system', creationTimestamp: created }, type: 'Opaque', data: {} },
    ],
    gateways: [
      {
        // Stored at v1beta1: served at v1 the server must rewrite apiVersion.
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'Gateway',
        metadata: { name: 'cross-network-gateway', namespace: 'istio-system', creationTimestamp: created },
        spec: {
          selector: { istio: 'eastwestgateway' },
          servers: [{ port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }],
        },
      },
    ],
  };
}

/** A fake backend; `objects` may be replaced (e.g. with 10,000 pods) before requests. */
export class FakeBackend implements LabBackend {
  readonly cluster: string;
  objects: Partial<Record<ResourceKindName, KubeObject[]>>;
  readonly execCalls: LabExecRequest[] = [];
  /** Counts list() calls per kind, to see the server does not re-list per item. */
  readonly listCalls = new Map<ResourceKindName, number>();

  constructor(cluster = 'cluster1', objects = fakeObjects()) {
    this.cluster = cluster;
    this.objects = objects;
  }

  authenticate(token: string): LabUser | undefined {
    if (token === ADMIN_TOKEN) return ADMIN;
    if (token === LIMITED_TOKEN) return LIMITED;
    return undefined;
  }

  list(kind: ResourceKindName): KubeObject[] {
    this.listCalls.set(kind, (this.listCalls.get(kind) ?? 0) + 1);
    return (this.objects[kind] ??= []);
  }

  /**
   * `echo a b` prints its arguments; `sh -c 'exit N'` exits N with stderr; `hang` never answers;
   * `half` prints and closes without a status; `cat` echoes stdin.
   */
  async exec(req: LabExecRequest): Promise<LabExecOutcome> {
    this.execCalls.push(req);
    const [cmd, ...args] = req.command;
    if (cmd === 'echo') return { exitCode: 0, stdout: `${args.join(' ')}\n`, stderr: '' };
    if (cmd === 'cat') return { exitCode: 0, stdout: req.stdin ?? '', stderr: '' };
    if (cmd === 'sh' && args[0] === '-c') {
      const m = /^exit (\d+)$/.exec(args[1] ?? '');
      const code = m ? Number(m[1]) : 0;
      return { exitCode: code, stdout: 'partial output\n', stderr: `failed with ${code}\n` };
    }
    if (cmd === 'hang') return { hang: true };
    if (cmd === 'half') return { closeWithoutStatus: true, stdout: 'half of it\n' };
    return { exitCode: 127, stdout: '', stderr: `${cmd}: not found\n` };
  }

  /** istiod listens on 15014 (its debug endpoints) and nothing else listens anywhere. */
  portForward(namespace: string, pod: string, port: number): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
    if (namespace !== 'istio-system' || !pod.startsWith('istiod-') || port !== 15014) return undefined;
    return (req, res) => {
      if (req.url === '/debug/clusterz') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify([{ ID: 'cluster2', SyncStatus: 'synced' }]));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
    };
  }
}
