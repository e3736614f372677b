import { describe, expect, it } from 'vitest';
import { internStrings, projectListItem } from '../../src/cluster/projection.ts';
import { containerEnv, findContainer } from '../../src/mesh/istio-objects.ts';
import { proxyContainer } from '../../src/mesh/sidecars.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const pod = (): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app-1', namespace: 'ns', labels: { app: 'app' }, annotations: { 'sidecar.istio.io/status': '{"revision":"default"}' }, managedFields: [{ manager: 'kubelet' }] },
  spec: {
    nodeName: 'node-1',
    volumes: [{ name: 'istio-envoy', emptyDir: {} }],
    tolerations: [{ key: 'x' }],
    containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }], args: ['serve'], readinessProbe: { httpGet: { port: 8080 } } }],
    initContainers: [
      {
        name: 'istio-proxy',
        image: 'proxyv2:1.29.1',
        restartPolicy: 'Always',
        env: [
          { name: 'ISTIO_META_DNS_CAPTURE', value: 'true' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        volumeMounts: [{ name: 'istio-envoy', mountPath: '/etc/istio/proxy' }],
        securityContext: { runAsUser: 1337 },
        resources: { limits: { cpu: '2' } },
      },
    ],
  },
  status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', ready: true, restartCount: 2 }], initContainerStatuses: [{ name: 'istio-proxy' }], qosClass: 'Burstable' },
});

describe('projectListItem', () => {
  it('keeps of a pod what checks read and drops what none does', () => {
    const projected = projectListItem('pods', pod());
    expect(projected.metadata).toEqual({ name: 'app-1', namespace: 'ns', labels: { app: 'app' }, annotations: { 'sidecar.istio.io/status': '{"revision":"default"}' } });
    expect(Object.keys(projected.spec)).toEqual(['nodeName', 'containers', 'initContainers']);
    expect(projected.spec.containers).toEqual([{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }] }]);
    expect(proxyContainer(projected)?.image).toBe('proxyv2:1.29.1');
    const proxy = projected.spec.initContainers[0];
    expect(Object.keys(proxy)).toEqual(['name', 'image', 'restartPolicy', 'env']);
    // Set through valueFrom stays set (its value unreadable), as containerEnv tells it.
    expect(proxy.env.map((e: { name: string }) => e.name)).toEqual(['ISTIO_META_DNS_CAPTURE', 'POD_NAME']);
    expect(containerEnv(proxy, 'POD_NAME')).toBeUndefined();
    expect(containerEnv(proxy, 'ISTIO_META_DNS_CAPTURE')).toBe('true');
    expect((findContainer(projected.spec, 'app') as { ports?: unknown[] } | undefined)?.ports).toHaveLength(1);
    expect(projected.status).toEqual({ phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', ready: true, restartCount: 2 }], initContainerStatuses: [{ name: 'istio-proxy' }] });
  });

  it('leaves other kinds whole but for managedFields', () => {
    const deployment: KubeObject = { kind: 'Deployment', metadata: { name: 'istiod', managedFields: [{}] }, spec: { template: { spec: { containers: [{ name: 'discovery', args: ['discovery'] }] } } } };
    expect(projectListItem('deployments', deployment)).toEqual({ kind: 'Deployment', metadata: { name: 'istiod' }, spec: deployment.spec });
    const service: KubeObject = { kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [] } };
    expect(projectListItem('services', service)).toBe(service);
  });

  it('projects the same with a string table shared by a list, which holds each distinct short string once (issue 19)', () => {
    const strings = new Map<string, string>();
    const [a, b] = [projectListItem('pods', pod(), strings), projectListItem('pods', pod(), strings)];
    expect(a).toEqual(projectListItem('pods', pod()));
    expect(b).toEqual(a);
    expect(strings.get('proxyv2:1.29.1')).toBe('proxyv2:1.29.1');
    expect(strings.get('ISTIO_META_DNS_CAPTURE')).toBe('ISTIO_META_DNS_CAPTURE');
    const long = 'x'.repeat(2000);
    expect(internStrings({ data: { cert: long }, list: ['a', 1, null] }, strings)).toEqual({ data: { cert: long }, list: ['a', 1, null] });
    expect(strings.has(long)).toBe(false);
    expect(strings.has('a')).toBe(true);
  });
});
