import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/workload.ts';
import type { ClusterReader, KubeObject } from '../../../src/cluster/types.ts';
import { parsePemCertificates } from '../../../src/mesh/certificates.ts';
import { findingKeys as allKeys, fixtureObjects, memoryReaders, objectNamed, openFixture, runCheck, type ClusterObjects } from '../helpers.ts';

const NOW = new Date('2026-11-20T10:00:00Z');
const HOUR = 3600_000;

/** A sidecar pod in `sample`. */
function sidecarPod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'sample', annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } },
    spec: { serviceAccountName: 'sleep', containers: [{ name: 'sleep' }, { name: 'istio-proxy' }] },
    status: { phase: 'Running' },
  };
}

/** Envoy's /certs JSON for a workload issued by `caSecret`'s ca-cert (serials and dates as Envoy prints them). */
function certsJson(caSecret: KubeObject, opts: { trustDomain?: string; issuedAt?: Date; lifetimeHours?: number; caSerial?: string } = {}): string {
  const text = (key: string) => Buffer.from(caSecret.data[key], 'base64').toString('utf8');
  const ca = parsePemCertificates(text('ca-cert.pem'))[0];
  const root = parsePemCertificates(text('root-cert.pem'))[0];
  const entry = (serial: string, from: Date, to: Date, uri?: string) => ({
    path: '<inline>',
    serial_number: serial,
    subject_alt_names: uri ? [{ uri }] : [],
    days_until_expiration: '0',
    valid_from: from.toISOString(),
    expiration_time: to.toISOString(),
  });
  const issuedAt = opts.issuedAt ?? new Date(NOW.getTime() - HOUR);
  const leaf = entry('7b1f', issuedAt, new Date(issuedAt.getTime() + (opts.lifetimeHours ?? 24) * HOUR), `spiffe://${opts.trustDomain ?? 'cluster.local'}/ns/sample/sa/sleep`);
  return JSON.stringify({
    certificates: [
      { ca_cert: [], cert_chain: [leaf, entry(opts.caSerial ?? ca.cert.serialNumber, ca.notBefore, ca.notAfter)] },
      { ca_cert: [entry(root.cert.serialNumber, root.notBefore, root.notAfter)], cert_chain: [] },
    ],
  });
}

/** Readers over edited objects, with sidecar pods answering GET certs from `bodies` (cluster -> body). */
function readersWithSidecars(objects: Map<string, ClusterObjects>, bodies: Record<string, string>): ClusterReader[] {
  return memoryReaders(objects).map((reader) => {
    const body = bodies[reader.name];
    if (!body) return reader;
    objects.get(reader.name)!.pods = [...(objects.get(reader.name)!.pods ?? []), sidecarPod('sleep-1')];
    return { ...reader, sidecarAdmin: async () => body };
  });
}

async function run(fixture: string, bodies: (objects: Map<string, ClusterObjects>) => Record<string, string>) {
  const objects = await fixtureObjects(fixture);
  return (await runCheck(check, readersWithSidecars(objects, bodies(objects)), { now: NOW })).runs;
}

// Every sampled sidecar (the fixture's gateways and the added pod) answers with the same body: one key each.
const findingKeys = (runs: Parameters<typeof allKeys>[0]) => [...new Set(allKeys(runs))];

const cacerts = (objects: Map<string, ClusterObjects>, cluster: string) => objectNamed(objects, cluster, 'secrets', 'cacerts');

describe('certificates/workload', () => {
  it('passes when sidecars hold certificates of their cluster\'s CA', async () => {
    const runs = await run('multi-primary-healthy', (o) => ({ cluster1: certsJson(cacerts(o, 'cluster1')), cluster2: certsJson(cacerts(o, 'cluster2')) }));
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('skips offline without proxies/ output', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.every((r) => r.skipped)).toBe(true);
  });

  it('workloadTrustDomainMismatch: spiffe://cluster2.local in a cluster.local mesh', async () => {
    const runs = await run('multi-primary-healthy', (o) => ({ cluster2: certsJson(cacerts(o, 'cluster2'), { trustDomain: 'cluster2.local' }) }));
    expect(findingKeys(runs)).toEqual(['cluster2:workloadTrustDomainMismatch']);
  });

  it('workloadIssuerMismatch: the chain names another CA', async () => {
    const runs = await run('multi-primary-healthy', (o) => ({ cluster2: certsJson(cacerts(o, 'cluster2'), { caSerial: 'deadbeef' }) }));
    expect(findingKeys(runs)).toEqual(['cluster2:workloadIssuerMismatch']);
  });

  it('workloadRootNotShared: root-mismatch, cluster2\'s workloads chain to the other root', async () => {
    const runs = await run('root-mismatch', (o) => ({ cluster1: certsJson(cacerts(o, 'cluster1')), cluster2: certsJson(cacerts(o, 'cluster2')) }));
    expect(findingKeys(runs)).toEqual(['cluster2:workloadRootNotShared']);
  });

  it('workloadCertExpired and workloadCertNotRotated', async () => {
    const expired = await run('multi-primary-healthy', (o) => ({ cluster1: certsJson(cacerts(o, 'cluster1'), { issuedAt: new Date(NOW.getTime() - 30 * HOUR) }) }));
    expect(findingKeys(expired)).toEqual(['cluster1:workloadCertExpired']);
    const stuck = await run('multi-primary-healthy', (o) => ({ cluster1: certsJson(cacerts(o, 'cluster1'), { issuedAt: new Date(NOW.getTime() - 20 * HOUR) }) }));
    expect(findingKeys(stuck)).toEqual(['cluster1:workloadCertNotRotated']);
  });

  it('an unknown /certs format is a broken probe (throws), not a finding', async () => {
    await expect(run('multi-primary-healthy', () => ({ cluster1: '{"certs": {}}' }))).rejects.toThrow(/unknown format/);
  });
});
