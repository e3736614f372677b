import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { pickSidecars } from '../../src/cluster/snapshot-writer.ts';
import { dnsCaptureOf } from '../../src/mesh/services.ts';
import { applicationContainer, hasSidecar, proxyContainer, sampleWorkloadSidecars, WORKLOAD_SAMPLE_SIZE } from '../../src/mesh/sidecars.ts';

const STATUS = JSON.stringify({ initContainers: null, containers: ['istio-proxy'], revision: 'default' });
const proxy = { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2', env: [{ name: 'ISTIO_META_DNS_CAPTURE', value: 'true' }] };

function pod(name: string, opts: { annotations?: Record<string, string>; containers?: object[]; initContainers?: object[]; namespace?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'sample', annotations: opts.annotations ?? {} },
    spec: { containers: opts.containers ?? [{ name: 'app', image: 'app:1' }], ...(opts.initContainers ? { initContainers: opts.initContainers } : {}) },
    status: { phase: 'Running' },
  };
}

const classic = pod('classic', { annotations: { 'sidecar.istio.io/status': STATUS }, containers: [{ name: 'app' }, proxy] });
const native = pod('native', {
  annotations: { 'sidecar.istio.io/status': STATUS },
  initContainers: [{ name: 'istio-init' }, { ...proxy, restartPolicy: 'Always' }],
});
// Annotated but its proxy container is not in the spec we were given (a trimmed object, an odd injector template).
const annotationOnly = pod('annotation-only', { annotations: { 'sidecar.istio.io/status': STATUS } });
const plain = pod('plain');
// Ambient: ztunnel redirects the pod's traffic; no sidecar, no istio-proxy container.
const ambient = pod('ambient', { annotations: { 'ambient.istio.io/redirection': 'enabled' } });

describe('has a sidecar', () => {
  it('is the injector status annotation, with the proxy as a container or a native sidecar', () => {
    expect(hasSidecar(classic)).toBe(true);
    expect(proxyContainer(classic)?.image).toBe(proxy.image);
    expect(hasSidecar(native)).toBe(true);
    expect(proxyContainer(native)?.image).toBe(proxy.image);
    expect(applicationContainer(native)).toBe('app');
  });

  it('the annotation alone counts; no annotation (plain or ambient) does not', () => {
    expect(hasSidecar(annotationOnly)).toBe(true);
    expect(proxyContainer(annotationOnly)).toBeUndefined();
    expect(hasSidecar(plain)).toBe(false);
    expect(proxyContainer(plain)).toBeUndefined();
    expect(hasSidecar(ambient)).toBe(false);
    expect(proxyContainer(ambient)).toBeUndefined();
  });

  it('an init container named istio-proxy without restartPolicy Always is not a running proxy', () => {
    const exited = pod('exited', { initContainers: [{ name: 'istio-proxy' }] });
    expect(proxyContainer(exited)).toBeUndefined();
  });

  it('DNS capture is read from a native sidecar as from a regular one', () => {
    expect(dnsCaptureOf(classic, {})).toEqual({ enabled: true, source: 'sidecar env' });
    expect(dnsCaptureOf(native, {})).toEqual({ enabled: true, source: 'sidecar env' });
    expect(dnsCaptureOf(ambient, {})).toEqual({ enabled: false, source: 'default (off)' });
  });

  it('snapshot capture takes every running proxy of the istio namespace (gateways) plus the injected workloads the check samples', () => {
    const gateway = pod('eastwest', { namespace: 'istio-system', containers: [proxy] });
    const picked = pickSidecars([classic, native, annotationOnly, plain, ambient, gateway], 'istio-system', 10).map((p) => p.name);
    expect(picked).toEqual(['eastwest', ...sampleWorkloadSidecars([classic, native, annotationOnly, plain, ambient, gateway]).map((p) => p.metadata.name)]);
    expect(picked).not.toContain('plain');
    expect(picked).not.toContain('ambient');
  });

  it('one sampler: round robin over namespaces, deterministic, and a snapshot of max >= the sample size holds every sidecar the check samples', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      pod(`w-${String(i).padStart(2, '0')}`, { namespace: `ns-${i % 7}`, annotations: { 'sidecar.istio.io/status': STATUS }, containers: [{ name: 'app' }, proxy] }),
    );
    const shuffled = [...many].reverse();
    const sample = sampleWorkloadSidecars(many).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(sample).toHaveLength(WORKLOAD_SAMPLE_SIZE);
    // Spread: no namespace twice before every namespace had a turn.
    expect(new Set(sample.map((s) => s.split('/')[0])).size).toBe(WORKLOAD_SAMPLE_SIZE);
    expect(sampleWorkloadSidecars(shuffled).map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(sample);
    for (const max of [WORKLOAD_SAMPLE_SIZE, 8, 20]) {
      const captured = pickSidecars(shuffled, 'istio-system', max).map((p) => `${p.namespace}/${p.name}`);
      expect(captured).toEqual(expect.arrayContaining(sample));
      expect(captured).toHaveLength(max);
    }
  });
});
