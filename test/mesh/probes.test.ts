import { describe, expect, it } from 'vitest';
import { attributeFailures, explainServingFailure } from '../../src/mesh/probes/attribution.ts';
import { classifyCurl } from '../../src/mesh/probes/curl.ts';
import { percentile, summarizeRequests } from '../../src/mesh/probes/http-round.ts';
import { parseProbeFrom, parseProbeTo, probeSettings, targetFqdn } from '../../src/mesh/probes/options.ts';

const out = (body: string, code: number, seconds = 0.012) => `${body}\n__meshdoctor__ ${code} ${seconds}\n`;

describe('label selectors and probe options', () => {
  it('parses --probe-from and --probe-to', () => {
    expect(parseProbeFrom('sample/app=curl')).toMatchObject({ namespace: 'sample', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['curl'] }] } });
    expect(() => parseProbeFrom('app=curl')).toThrow(/NAMESPACE\/LABEL-SELECTOR/);
    expect(parseProbeTo('helloworld.sample:5000/hello')).toMatchObject({ host: 'helloworld.sample', port: 5000, path: '/hello', service: { namespace: 'sample', name: 'helloworld' } });
    expect(parseProbeTo('http://example.com')).toMatchObject({ host: 'example.com', port: 80, path: '/' });
    expect(() => parseProbeTo('bad host:x')).toThrow(/HOST\[:PORT\]/);
    expect(targetFqdn(parseProbeTo('helloworld'), 'sample')).toBe('helloworld.sample.svc.cluster.local');
    expect(targetFqdn(parseProbeTo('helloworld.sample.svc'), 'x')).toBe('helloworld.sample.svc.cluster.local');
    expect(targetFqdn(parseProbeTo('www.example.com'), 'x')).toBe('www.example.com');
  });

  it('validates settings', () => {
    const base = { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date() };
    expect(probeSettings(base)).toMatchObject({ count: 10, timeoutMs: 3000, from: [] });
    expect(() => probeSettings({ ...base, probeCount: 0 })).toThrow(/probe-count/);
  });

  it('leaves out every cluster\'s Istio namespace, the same for a mesh-wide check as for one on a remote in external-istiod (issue 18)', () => {
    const base = { istioNamespace: 'istio-system', certWarnDays: 30, now: new Date() };
    const info = (name: string, istioNamespace: string) => ({ name, role: 'remote' as const, revisions: [], reachable: true, via: 'context' as const, istioNamespace });
    const infos = [info('cluster1', 'external-istiod'), info('cluster2', 'external-istiod'), info('cluster3', 'istio-system')];
    const mesh = probeSettings(base, infos).systemNamespaces;
    expect(mesh).toEqual(['external-istiod', 'istio-system']);
    expect(probeSettings({ ...base, istioNamespace: 'external-istiod' }, infos).systemNamespaces).toEqual(mesh);
  });
});

describe('classifyCurl', () => {
  const curlErr = (exitCode: number, message: string) => ({ exitCode, stdout: out('', 0), stderr: `curl: (${exitCode}) ${message}\n` });
  it.each([
    [6, 'dns'],
    [7, 'connect'],
    [28, 'timeout'],
    [35, 'tls'],
    [60, 'tls'],
    [56, 'reset'],
    [3, 'other'],
  ])('curl exit %i is %s', (exitCode, kind) => {
    expect(classifyCurl(curlErr(exitCode, 'x')).failure?.kind).toBe(kind);
  });

  it('reads status and time of a success (404 counts as reached)', () => {
    expect(classifyCurl({ exitCode: 0, stdout: out('Hello version: v1', 200), stderr: '' })).toEqual({ exitCode: 0, status: 200, ms: 12, bodyHead: 'Hello version: v1\n' });
    expect(classifyCurl({ exitCode: 0, stdout: out('not found', 404), stderr: '' }).failure).toBeUndefined();
  });

  it('keeps the first 256 characters of the body (which pod served, for an ambient source)', () => {
    const body = `Hello version: v2, instance: helloworld-v2-abc ${'x'.repeat(400)}`;
    expect(classifyCurl({ exitCode: 0, stdout: out(body, 200), stderr: '' }).bodyHead).toBe(body.slice(0, 256));
    expect(classifyCurl({ exitCode: 0, stdout: out('', 204), stderr: '' }).bodyHead).toBeUndefined();
  });

  it("classifies 503s by Envoy's reason", () => {
    expect(classifyCurl({ exitCode: 0, stdout: out('no healthy upstream', 503), stderr: '' }).failure).toMatchObject({ kind: 'upstream', detail: 'HTTP 503: no healthy upstream' });
    const tls = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED';
    expect(classifyCurl({ exitCode: 0, stdout: out(tls, 503), stderr: '' }).failure?.kind).toBe('tls');
    expect(classifyCurl({ exitCode: 0, stdout: out('boom', 500), stderr: '' }).failure?.kind).toBe('server');
  });
});

describe('summaries', () => {
  it('counts statuses and percentiles', () => {
    const ok = (ms: number) => ({ exitCode: 0, status: 200, ms });
    const summary = summarizeRequests([ok(5), ok(10), ok(20), { exitCode: 28, status: 0, failure: { kind: 'timeout' as const, detail: 't' } }]);
    expect(summary).toMatchObject({ total: 4, ok: 3, failed: 1, statuses: { '200': 3, 'curl exit 28': 1 }, p50Ms: 10, p95Ms: 20 });
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it('explains pod IPs of another network by the gateway without an address', () => {
    const text = explainServingFailure({
      sourceNetwork: 'network1',
      servingCluster: 'cluster2',
      servingNetwork: 'network2',
      hostKinds: new Set(['pod']),
      gateways: [
        {
          cluster: 'cluster2',
          kind: 'Service',
          network: 'network2',
          namespace: 'istio-system',
          name: 'istio-eastwestgateway',
          recognisedByIstiod: true,
          addresses: [],
          gatewayPort: 15443,
          dialPort: 15443,
          podPort: 15443,
          selector: { istio: 'eastwestgateway' },
          type: 'LoadBalancer',
        },
      ],
    });
    expect(text).toMatch(/no address \(LoadBalancer pending\)/);
    expect(explainServingFailure({ servingCluster: 'c', hostKinds: new Set(['gateway']), gateways: [], curlDetail: 'HTTP 503: x' })).toBe('HTTP 503: x');
  });
});

describe('attributeFailures: which cluster served the failing requests', () => {
  const TLS = 'HTTP 503: upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: CERTIFICATE_VERIFY_FAILED';
  const TERMINATION = 'HTTP 503: upstream connect error or disconnect/reset before headers. reset reason: connection termination';
  const failed = (kind: 'tls' | 'upstream' | 'dns', detail: string, n: number) => Array.from({ length: n }, () => ({ exitCode: 0, status: 503, failure: { kind, detail } }));
  const ok = (n: number) => Array.from({ length: n }, () => ({ exitCode: 0, status: 200, ms: 5 }));
  const owners = new Map([
    ['10.20.1.5', { cluster: 'cluster2', kind: 'pod' as const }],
    ['192.0.2.11', { cluster: 'cluster1', kind: 'gateway' as const }],
    ['192.0.2.13', { cluster: 'cluster3', kind: 'gateway' as const }],
  ]);
  const summary = (list: ReturnType<typeof attributeFailures>) => list.map((f) => `${f.serving ?? '-'}:${f.kind}:${f.count}:${f.hosts.join(',')}`).sort();

  it('splits two failure kinds of equal count over two clusters by the counter each lands in', () => {
    // cluster2's source: cluster1's gateway terminates (rq_error), cluster3's fails the TLS handshake (cx_connect_fail).
    const requests = [...ok(4), ...failed('upstream', TERMINATION, 3), ...failed('tls', TLS, 3)];
    const deltas = [
      { host: '10.20.1.5:5000', success: 4, errors: 0, connectFailures: 0 },
      { host: '192.0.2.11:15443', success: 0, errors: 3, connectFailures: 0 },
      { host: '192.0.2.13:15443', success: 0, errors: 3, connectFailures: 3 },
    ];
    expect(summary(attributeFailures(requests, deltas, owners))).toEqual(['cluster1:upstream:3:192.0.2.11:15443', 'cluster3:tls:3:192.0.2.13:15443']);
  });

  it('splits one kind over several clusters by their error counts, and falls back across counters', () => {
    const requests = failed('tls', TLS, 5);
    // This Envoy counted the TLS failures as request errors only.
    const deltas = [
      { host: '192.0.2.11:15443', success: 0, errors: 2, connectFailures: 0 },
      { host: '192.0.2.13:15443', success: 0, errors: 3, connectFailures: 0 },
    ];
    expect(summary(attributeFailures(requests, deltas, owners))).toEqual(['cluster1:tls:2:192.0.2.11:15443', 'cluster3:tls:3:192.0.2.13:15443']);
  });

  it('leaves failures the counters do not account for unattributed, and names unexplained hosts', () => {
    const requests = [...failed('dns', 'curl: (6) Could not resolve host', 2), ...failed('upstream', TERMINATION, 3)];
    expect(summary(attributeFailures(requests, undefined, owners))).toEqual(['-:dns:2:', '-:upstream:3:']);
    const deltas = [{ host: '203.0.113.9:15443', success: 0, errors: 3, connectFailures: 0 }];
    expect(summary(attributeFailures(requests, deltas, owners))).toEqual(['-:dns:2:', '-:upstream:3:203.0.113.9:15443']);
  });
});
