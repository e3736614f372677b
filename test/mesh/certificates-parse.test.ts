// parsePemCertificates parses each PEM block once per process (the certificates/ checks read the same few
// certificates over and over); what callers get must not show it.
import { describe, expect, it } from 'vitest';
import { parsePemCertificates } from '../../src/mesh/certificates.ts';
import { rootAndIntermediate } from '../checks/certificates/ca-material.ts';

describe('parsePemCertificates, parsed once', () => {
  it('a block read again gives the same facts and the same parsed certificate, in a fresh object per call', async () => {
    const { root, ca } = await rootAndIntermediate();
    const first = parsePemCertificates(`${ca.certPem}\n${root.certPem}`);
    const again = parsePemCertificates(`${root.certPem}${ca.certPem}`);
    expect(again.map((c) => c.subject)).toEqual(['O=Test, CN=Root CA', 'O=Test, CN=Cluster CA']);
    expect(again[0]).toEqual(first[1]);
    expect(again[0].cert).toBe(first[1].cert);
    expect(again[0]).not.toBe(first[1]);
    // One block twice in a bundle stays two entries callers can tell apart.
    const twice = parsePemCertificates(`${root.certPem}${root.certPem}`);
    expect(twice).toHaveLength(2);
    expect(twice[0]).not.toBe(twice[1]);
    expect(twice[0].fingerprint).toBe(twice[1].fingerprint);
  });
});
