// The kubeconfig of a lab: one context per simulated cluster, named like the cluster.
import YAML from 'yaml';
import type { LabMeshState } from './types.ts';

/**
 * Render a kubeconfig for every cluster of a mesh: cluster, user and context all named like the
 * cluster (`cluster1`, ...), the API server's CA inline, the admin bearer token; current context
 * `cluster1` (the first cluster).
 */
export function renderLabKubeconfig(mesh: LabMeshState): string {
  const clusters = mesh.clusters;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': clusters[0]?.name ?? '',
    clusters: clusters.map((c) => ({
      name: c.name,
      cluster: { server: c.endpoint.server, 'certificate-authority-data': Buffer.from(c.endpoint.caPem).toString('base64') },
    })),
    users: clusters.map((c) => ({ name: c.name, user: { token: c.adminToken } })),
    contexts: clusters.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
  });
}
