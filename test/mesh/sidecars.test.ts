import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { pickSidecars } from '../../src/cluster/snapshot-writer.ts';
import { dnsCaptureOf } from '../../src/mesh/services.ts';
import { applicationContainer, hasSidecar, proxyContainer } from '../../src/mesh/sidecars.ts';

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

  it('snapshot capture samples every running proxy: gateways (no annotation) and native sidecars too', () => {
    const gateway = pod('eastwest', { namespace: 'istio-system', containers: [proxy] });
    const picked = pickSidecars([classic, native, annotationOnly, plain, ambient, gateway], 'istio-system', 10).map((p) => p.name);
    expect(picked).toEqual(['eastwest', 'classic', 'native']);
  });
});
