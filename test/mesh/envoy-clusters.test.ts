import { describe, expect, it } from 'vitest';
import { hostDeltas, outboundClustersOf, parseEnvoyClusters, parseEnvoyClustersFor, splitHost } from '../../src/mesh/envoy-clusters.ts';

const stats = (success: number, error: number) => `outbound|5000||helloworld.sample.svc.cluster.local::observability_name::outbound|5000||helloworld.sample.svc.cluster.local
outbound|5000||helloworld.sample.svc.cluster.local::default_priority::max_connections::4294967295
outbound|5000||helloworld.sample.svc.cluster.local::10.10.1.5:5000::rq_success::${success}
outbound|5000||helloworld.sample.svc.cluster.local::10.10.1.5:5000::rq_error::0
outbound|5000||helloworld.sample.svc.cluster.local::10.10.1.5:5000::rq_total::${success}
outbound|5000||helloworld.sample.svc.cluster.local::10.10.1.5:5000::health_flags::healthy
outbound|5000|v1|helloworld.sample.svc.cluster.local::192.0.2.12:15443::rq_success::0
outbound|5000|v1|helloworld.sample.svc.cluster.local::192.0.2.12:15443::rq_error::${error}
outbound|5000|v1|helloworld.sample.svc.cluster.local::192.0.2.12:15443::rq_total::${error}
outbound|5000||other.sample.svc.cluster.local::10.10.1.9:5000::rq_success::7
xds-grpc::./etc/istio/proxy/XDS::rq_success::1
`;

describe('parseEnvoyClusters', () => {
  it('reads per-host counters and skips cluster settings', () => {
    const parsed = parseEnvoyClusters(stats(3, 1));
    expect(parsed.get('outbound|5000||helloworld.sample.svc.cluster.local')?.get('10.10.1.5:5000')).toMatchObject({ rq_success: 3, rq_total: 3 });
    expect(parsed.has('xds-grpc')).toBe(false);
    expect(outboundClustersOf(parsed, 'helloworld.sample.svc.cluster.local', 5000).sort()).toEqual(
      ['outbound|5000||helloworld.sample.svc.cluster.local', 'outbound|5000|v1|helloworld.sample.svc.cluster.local'].sort(),
    );
  });

  it('throws on an unknown format', () => {
    expect(() => parseEnvoyClusters('{"cluster_statuses": []}')).toThrow(/unknown Envoy/);
    expect(parseEnvoyClusters('').size).toBe(0);
  });

  it('computes deltas per host across subsets, idle hosts included', () => {
    const deltas = hostDeltas(parseEnvoyClusters(stats(3, 1)), parseEnvoyClusters(stats(8, 4)), 'helloworld.sample.svc.cluster.local', 5000);
    expect(deltas).toEqual([
      { host: '10.10.1.5:5000', success: 5, errors: 0, connectFailures: 0 },
      { host: '192.0.2.12:15443', success: 0, errors: 3, connectFailures: 0 },
    ]);
    expect(hostDeltas(parseEnvoyClusters(stats(3, 1)), parseEnvoyClusters(stats(3, 1)), 'helloworld.sample.svc.cluster.local', 5000).every((d) => d.success + d.errors === 0)).toBe(true);
  });

  it('parses only the targets\' clusters, as the whole parse has them (issue 19)', () => {
    const host = 'helloworld.sample.svc.cluster.local';
    const text = `  ${stats(8, 4)}outbound|5001||${host}::10.10.1.5:5001::rq_success::2\noutbound|5000||x${host}::10.10.1.7:5000::rq_success::9\noutbound|5000||${host}::10.10.1.5:5000::cx_connect_fail::6`;
    const whole = parseEnvoyClusters(text);
    const only = parseEnvoyClustersFor(text, [{ host, port: 5000 }]);
    // Exactly the clusters outboundClustersOf picks for the target, each with the same hosts and counters.
    expect([...only.keys()].sort()).toEqual(outboundClustersOf(whole, host, 5000));
    for (const name of only.keys()) expect(only.get(name)).toEqual(whole.get(name));
    expect(only.get(`outbound|5000||${host}`)?.get('10.10.1.5:5000')).toMatchObject({ rq_success: 8, cx_connect_fail: 6 });
    expect(hostDeltas(parseEnvoyClustersFor(stats(3, 1), [{ host, port: 5000 }]), only, host, 5000)).toEqual(hostDeltas(parseEnvoyClusters(stats(3, 1)), whole, host, 5000));
    expect(parseEnvoyClustersFor(text, [{ host, port: 5001 }]).get(`outbound|5001||${host}`)?.get('10.10.1.5:5001')?.rq_success).toBe(2);
    expect(parseEnvoyClustersFor(text, [{ host: 'absent.sample.svc.cluster.local', port: 5000 }]).size).toBe(0);
    expect(() => parseEnvoyClustersFor('{"cluster_statuses": []}', [{ host, port: 5000 }])).toThrow(/unknown Envoy/);
    expect(() => parseEnvoyClustersFor('a::b\nc::d\n', [{ host, port: 5000 }])).toThrow(/unknown Envoy/);
    expect(parseEnvoyClustersFor('', [{ host, port: 5000 }]).size).toBe(0);
  });

  it('splits IPv4 and IPv6 hosts', () => {
    expect(splitHost('10.0.0.1:80')).toEqual({ address: '10.0.0.1', port: 80 });
    expect(splitHost('[fd00::1]:15443')).toEqual({ address: 'fd00::1', port: 15443 });
  });
});
