import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/expiry.ts';
import { issueCert } from '../../../src/lab/pki.ts';
import { findingKeys, fixtureObjects, memoryReaders, openFixture, runCheck, runFor } from '../helpers.ts';
import { cacertsData, findingTuples, rootAndIntermediate, setCacerts } from './ca-material.ts';

// The fixtures' intermediates are valid 2026-01-01 .. 2028-01-01, the root until 2036-01-01.
describe('certificates/expiry', () => {
  it('passes on multi-primary-healthy at capturedAt', async () => {
    const { capturedAt, clusters } = await openFixture('multi-primary-healthy');
    expect(findingKeys((await runCheck(check, clusters, { now: capturedAt })).runs)).toEqual([]);
  });

  it('certExpired: the ca-cert has expired', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters, { now: new Date('2028-01-10T00:00:00Z') });
    expect(findingKeys(runs)).toEqual(['cluster1:certExpired', 'cluster2:certExpired']);
    expect(runFor(runs, 'cluster1').findings[0].data).toMatchObject({ role: 'ca-cert', days: 9 });
  });

  it('certExpiring: within --cert-warn-days', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters, { now: new Date('2027-12-20T00:00:00Z') });
    expect(findingKeys(runs)).toEqual(['cluster1:certExpiring', 'cluster2:certExpiring']);
    expect(runFor(runs, 'cluster2').findings[0].data).toMatchObject({ role: 'ca-cert', days: 12 });
  });

  it('certNotYetValid: before notBefore, every link', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters, { now: new Date('2025-06-01T00:00:00Z') });
    expect(runFor(runs, 'cluster1').findings.map((f) => [f.messageId, f.data?.role])).toEqual([
      ['certNotYetValid', 'ca-cert'],
      ['certNotYetValid', 'root'],
    ]);
  });

  it('self-signed istio-ca-secret and, with Secrets forbidden, the distributed root are judged too', async () => {
    for (const fixture of ['cacerts-missing', 'secrets-forbidden']) {
      const { runs } = await runCheck(check, (await openFixture(fixture)).clusters, { now: new Date('2036-02-01T00:00:00Z') });
      expect(runFor(runs, 'cluster2').findings.map((f) => [f.messageId, f.data?.role])).toContainEqual(['certExpired', 'root']);
    }
  });

  it('Secrets forbidden: an expired intermediate it cannot see is never vouched for (skip with the reason, issue 11.4)', async () => {
    // secrets-forbidden: cluster2's Secrets could not be listed; its distributed root is valid at capturedAt.
    const { capturedAt, clusters } = await openFixture('secrets-forbidden');
    // The fixture's intermediates expire 2028-01-01: five days later the root is still valid.
    for (const now of [capturedAt, new Date('2028-01-06T00:00:00Z')]) {
      const { runs } = await runCheck(check, clusters, { now });
      const cluster2 = runFor(runs, 'cluster2');
      expect(cluster2.findings).toEqual([]);
      expect(cluster2.skipped).toMatch(/cannot read Secrets in istio-system \(forbidden.*only the distributed root was judged/);
    }
    // cluster1 reads its Secrets: the expired intermediate is its finding.
    const later = await runCheck(check, clusters, { now: new Date('2028-01-06T00:00:00Z') });
    expect(findingKeys(later.runs)).toEqual(['cluster1:certExpired']);
  });

  it('offPathCertExpired: an expired extra root in root-cert.pem, off the validated path, is a warning', async () => {
    const { root, ca } = await rootAndIntermediate();
    const oldRoot = await issueCert({ subject: 'O=Test, CN=Old Root', isCa: true, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z') });
    const objects = await fixtureObjects('multi-primary-healthy');
    setCacerts(objects, 'cluster2', { ...cacertsData(root, ca), 'root-cert.pem': oldRoot.certPem + root.certPem });
    const { runs } = await runCheck(check, memoryReaders(objects), { now: new Date('2026-11-20T10:00:00Z') });
    expect(findingTuples(check, runs)).toEqual([['certificates/expiry', 'offPathCertExpired', 'cluster2', 'warning']]);
    // On the path, an expired root stays an error.
    const expiredRoot = await rootAndIntermediate({}, { notAfter: new Date('2026-06-01T00:00:00Z') });
    setCacerts(objects, 'cluster2', cacertsData(expiredRoot.root, expiredRoot.ca));
    const onPath = await runCheck(check, memoryReaders(objects), { now: new Date('2026-11-20T10:00:00Z') });
    expect(findingTuples(check, onPath.runs)).toContainEqual(['certificates/expiry', 'certExpired', 'cluster2', 'error']);
  });
});
