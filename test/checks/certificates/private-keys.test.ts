// No report ever carries private key material: every certificates check runs through the engine on
// clusters whose CA Secrets hold real private keys (matching, mismatched, unreadable), and nothing it
// produces (messages, hints, data) contains a PEM key or any line of one.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import certificateChecks from '../../../src/checks/certificates/index.ts';
import { runChecks } from '../../../src/engine/run.ts';
import { discoverTopology } from '../../../src/mesh/discovery.ts';
import { ISTIO_NAMESPACE, fixtureObjects, memoryReaders } from '../helpers.ts';
import { cacertsData, rootAndIntermediate, setCacerts } from './ca-material.ts';

describe('private key material never reaches a report', () => {
  it('runs every certificates check on real keys and finds no key text in the results', async () => {
    const { root, ca } = await rootAndIntermediate();
    const rsa = await rootAndIntermediate({ keyAlgorithm: 'rsa-2048' });
    const stray = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const objects = await fixtureObjects('multi-primary-healthy');
    setCacerts(objects, 'cluster1', { ...cacertsData(rsa.root, rsa.ca, 'pkcs1'), 'cert-chain.pem': rsa.root.certPem + rsa.ca.certPem });
    setCacerts(objects, 'cluster2', { ...cacertsData(root, ca), 'ca-key.pem': stray });
    const readers = memoryReaders(objects);
    const { clusters, mesh } = await discoverTopology(readers, ISTIO_NAMESPACE);
    const results = await runChecks({
      checks: certificateChecks,
      readers,
      clusterInfos: clusters,
      mesh,
      options: { istioNamespace: ISTIO_NAMESPACE, certWarnDays: 30, now: new Date('2026-11-20T10:00:00Z') },
      timeoutMs: 10_000,
      concurrency: 2,
    });
    // The material did produce findings (a mismatched key, a wrong order), so there was text to leak into.
    const ids = results.flatMap((r) => r.findings.map((f) => `${f.cluster}:${f.messageId}`));
    expect(ids).toEqual(expect.arrayContaining(['cluster2:caKeyMismatch', 'cluster1:chainWrongOrder', 'cluster2:rootMismatch']));
    const text = JSON.stringify(results);
    expect(text).not.toContain('PRIVATE KEY');
    for (const pem of [rsa.ca.keyPem, ca.keyPem, stray]) {
      const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
      for (const line of body) expect(text).not.toContain(line);
    }
  });
});
