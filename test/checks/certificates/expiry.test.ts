import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/certificates/expiry.ts';
import { findingKeys, openFixture, runCheck, runFor } from '../helpers.ts';

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
});
