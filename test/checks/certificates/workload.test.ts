import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/workload.ts';
import { AccessError, type ClusterReader, type KubeObject } from '../../../src/cluster/types.ts';
import { issueCert, type IssuedCert } from '../../../src/lab/pki.ts';
import { findingKeys as allKeys, fixtureObjects, memoryReaders, openFixture, runCheck, runErrors, type ClusterObjects } from '../helpers.ts';
import { NOT_AFTER, NOT_BEFORE, cacertsData, findingTuples, rootAndIntermediate, setCacerts } from './ca-material.ts';

const NOW = new Date('2026-11-20T10:00:00Z');
/** A PEM block whose base64 decodes to no certificate. */
const GARBAGE_PEM = '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZSwgbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
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

/** What a sidecar answers: Envoy's /certs and (unless left out) its SDS secrets. */
interface SidecarOutputs {
  certs: string;
  secrets?: string;
}

/** A workload certificate issued by `ca` (real signature), as a sidecar of `bundle` shows it. */
async function sidecar(ca: IssuedCert, bundle: IssuedCert[], opts: { trustDomain?: string; issuedAt?: Date; lifetimeHours?: number; secrets?: boolean } = {}): Promise<SidecarOutputs> {
  const issuedAt = opts.issuedAt ?? new Date(NOW.getTime() - HOUR);
  const leaf = await issueCert({
    subject: '',
    issuer: ca,
    uris: [`spiffe://${opts.trustDomain ?? 'cluster.local'}/ns/sample/sa/sleep`],
    notBefore: issuedAt,
    notAfter: new Date(issuedAt.getTime() + (opts.lifetimeHours ?? 24) * HOUR),
    serverAuth: true,
    clientAuth: true,
  });
  const entry = (c: IssuedCert, uri?: string) => ({
    path: '<inline>',
    serial_number: c.cert.serialNumber,
    subject_alt_names: uri ? [{ uri }] : [],
    days_until_expiration: '0',
    valid_from: c.cert.notBefore.toISOString(),
    expiration_time: c.cert.notAfter.toISOString(),
  });
  // Real Envoy: the leaf only, and the first certificate of the trust bundle.
  const certs = JSON.stringify({ certificates: [{ ca_cert: [entry(bundle[0])], cert_chain: [entry(leaf, `spiffe://${opts.trustDomain ?? 'cluster.local'}/ns/sample/sa/sleep`)] }] });
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const secret = (name: string, body: Record<string, unknown>) => ({ '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', name, secret: { name, ...body } });
  const secrets = JSON.stringify({
    configs: [
      secret('default', { tls_certificate: { certificate_chain: { inline_bytes: b64(leaf.certPem + ca.certPem) }, private_key: { inline_string: '[redacted]' } } }),
      secret('ROOTCA', { validation_context: { trusted_ca: { inline_bytes: b64(bundle.map((c) => c.certPem).join('')) } } }),
    ],
  });
  return { certs, secrets: opts.secrets === false ? undefined : secrets };
}

/**
 * Readers over edited objects; sidecars answer GET certs and the secrets read: offline from the
 * config_dump file (not found without one), live from the admin endpoint (a failing command without).
 */
function readersWithSidecars(objects: Map<string, ClusterObjects>, outputs: Record<string, SidecarOutputs>, live = false): ClusterReader[] {
  return memoryReaders(objects).map((reader) => {
    const out = outputs[reader.name];
    if (!out) return reader;
    objects.get(reader.name)!.pods = [...(objects.get(reader.name)!.pods ?? []), sidecarPod('sleep-1')];
    const missing = () => new AccessError('not-found', reader.name, 'no output');
    return {
      ...reader,
      sidecarAdmin: async (_pod, what) => {
        if (what === 'certs') return out.certs;
        if (what === 'secrets' && out.secrets) return out.secrets;
        if (what === 'secrets' && live) throw new AccessError('bad-response', reader.name, 'pilot-agent request GET config_dump?resource=dynamic_active_secrets exited 1');
        throw missing();
      },
      exec: async () => {
        // Every sidecar read goes through sidecarAdmin: a raw exec is a bug in the check.
        throw new Error('certificates/workload ran a raw exec');
      },
    };
  });
}

/** The healthy multi-primary fixture with real CA material: one root, one CA per cluster. */
async function mesh() {
  const objects = await fixtureObjects('multi-primary-healthy');
  const { root, ca: ca1 } = await rootAndIntermediate();
  const ca2 = await issueCert({ subject: 'O=Test, CN=Cluster CA 2', issuer: root, isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  setCacerts(objects, 'cluster1', cacertsData(root, ca1));
  setCacerts(objects, 'cluster2', cacertsData(root, ca2));
  return { objects, root, ca1, ca2 };
}

async function run(objects: Map<string, ClusterObjects>, outputs: Record<string, SidecarOutputs>, live = false) {
  return (await runCheck(check, readersWithSidecars(objects, outputs, live), { now: NOW })).runs;
}

// Every sampled sidecar (the fixture's gateways and the added pod) answers with the same body: one key each.
const findingKeys = (runs: Parameters<typeof allKeys>[0]) => [...new Set(allKeys(runs))];

describe('certificates/workload', () => {
  it('passes when sidecars hold certificates of their cluster\'s CA (offline secrets, and live over the admin endpoint)', async () => {
    const m = await mesh();
    const outputs = { cluster1: await sidecar(m.ca1, [m.root]), cluster2: await sidecar(m.ca2, [m.root]) };
    const runs = await run(m.objects, outputs);
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.every((r) => !r.skipped)).toBe(true);
    const live = await mesh();
    const liveOutputs = { cluster1: await sidecar(live.ca1, [live.root]), cluster2: await sidecar(live.ca2, [live.root]) };
    expect(findingKeys(await run(live.objects, liveOutputs, true))).toEqual([]);
  });

  it('skips offline without proxies/ output', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.every((r) => r.skipped)).toBe(true);
  });

  it('workloadTrustDomainMismatch: spiffe://cluster2.local in a cluster.local mesh', async () => {
    const m = await mesh();
    const runs = await run(m.objects, { cluster2: await sidecar(m.ca2, [m.root], { trustDomain: 'cluster2.local' }) });
    expect(findingTuples(check, runs)).toContainEqual(['certificates/workload', 'workloadTrustDomainMismatch', 'cluster2', 'error']);
    expect(findingKeys(runs)).toEqual(['cluster2:workloadTrustDomainMismatch']);
  });

  it('workloadIssuerMismatch: the leaf\'s signature does not verify with the cluster\'s CA (live)', async () => {
    const m = await mesh();
    const runs = await run(m.objects, { cluster2: await sidecar(m.ca1, [m.root]) }, true);
    expect(findingTuples(check, runs)).toContainEqual(['certificates/workload', 'workloadIssuerMismatch', 'cluster2', 'error']);
    expect(findingKeys(runs)).toEqual(['cluster2:workloadIssuerMismatch']);
  });

  it('with /certs only (leaf and first root), the issuer and the bundle are not judged', async () => {
    const m = await mesh();
    const other = await issueCert({ subject: 'O=Other, CN=Root', isCa: true });
    const runs = await run(m.objects, { cluster2: await sidecar(m.ca1, [other, m.root], { secrets: false }) });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('a rotation bundle [old, new] trusts the mesh\'s root wherever it stands', async () => {
    const m = await mesh();
    const old = await issueCert({ subject: 'O=Test, CN=Old Root', isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const runs = await run(m.objects, { cluster1: await sidecar(m.ca1, [old, m.root]), cluster2: await sidecar(m.ca2, [m.root, old]) });
    expect(findingKeys(runs)).toEqual([]);
  });

  it('workloadRootNotShared: the cluster chains to another root, or the proxy\'s bundle lacks the mesh\'s root', async () => {
    const m = await mesh();
    const { root: root2, ca: ca2 } = await rootAndIntermediate({}, { subject: 'O=Test, CN=Other Root' });
    setCacerts(m.objects, 'cluster2', cacertsData(root2, ca2));
    const runs = await run(m.objects, { cluster1: await sidecar(m.ca1, [m.root]), cluster2: await sidecar(ca2, [root2]) });
    expect(findingTuples(check, runs)).toContainEqual(['certificates/workload', 'workloadRootNotShared', 'cluster2', 'error']);
    expect(findingKeys(runs)).toEqual(['cluster2:workloadRootNotShared']);

    const stale = await mesh();
    const old = await issueCert({ subject: 'O=Test, CN=Old Root', isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    expect(findingKeys(await run(stale.objects, { cluster1: await sidecar(stale.ca1, [stale.root]), cluster2: await sidecar(stale.ca2, [old]) }))).toEqual(['cluster2:workloadRootNotShared']);
  });

  it('a garbage root in one cluster\'s cacerts does not hide another cluster\'s workloadRootNotShared (issue 11.6)', async () => {
    const m = await mesh();
    const { root: root2, ca: ca2 } = await rootAndIntermediate({}, { subject: 'O=Test, CN=Other Root' });
    setCacerts(m.objects, 'cluster2', cacertsData(root2, ca2));
    // cluster1: root-cert.pem of cacerts is not a certificate; its workloads still trust the distributed root.
    setCacerts(m.objects, 'cluster1', { ...cacertsData(m.root, m.ca1), 'root-cert.pem': GARBAGE_PEM });
    for (const cm of m.objects.get('cluster1')!.configmaps!.filter((c) => c.metadata.name === 'istio-ca-root-cert')) cm.data = { 'root-cert.pem': m.root.certPem };
    const runs = await run(m.objects, { cluster1: await sidecar(m.ca1, [m.root]), cluster2: await sidecar(ca2, [root2]) });
    // cluster1 stands on its distributed root, so cluster2 is the odd one, as without the garbage.
    expect(findingKeys(runs)).toEqual(['cluster2:workloadRootNotShared']);
    expect(runs.every((r) => !r.skipped)).toBe(true);
  });

  it('workloadCertExpired and workloadCertNotRotated', async () => {
    const m = await mesh();
    const expired = await run(m.objects, { cluster1: await sidecar(m.ca1, [m.root], { issuedAt: new Date(NOW.getTime() - 30 * HOUR) }) });
    expect(findingTuples(check, expired)).toContainEqual(['certificates/workload', 'workloadCertExpired', 'cluster1', 'error']);
    expect(findingKeys(expired)).toEqual(['cluster1:workloadCertExpired']);
    const m2 = await mesh();
    const stuck = await run(m2.objects, { cluster1: await sidecar(m2.ca1, [m2.root], { issuedAt: new Date(NOW.getTime() - 20 * HOUR) }) });
    expect(findingTuples(check, stuck)).toContainEqual(['certificates/workload', 'workloadCertNotRotated', 'cluster1', 'warning']);
    expect(findingKeys(stuck)).toEqual(['cluster1:workloadCertNotRotated']);
  });

  it('an unknown /certs or config_dump format is a broken probe (the check errors), not a finding', async () => {
    const m = await mesh();
    expect(runErrors(await run(m.objects, { cluster1: { certs: '{"certs": {}}' } }))).toEqual([expect.stringMatching(/^cluster1: .*unknown format/)]);
    const m2 = await mesh();
    const good = await sidecar(m2.ca1, [m2.root]);
    expect(runErrors(await run(m2.objects, { cluster1: { certs: good.certs, secrets: '{"secrets": []}' } }))).toEqual([expect.stringMatching(/^cluster1: .*unknown format/)]);
  });
});
