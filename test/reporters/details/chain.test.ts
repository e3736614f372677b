import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import renderChain from '../../../src/reporters/details/chain.ts';
import type { ChainDetail } from '../../../src/engine/details.ts';
import type { CheckResult } from '../../../src/engine/types.ts';

const chalk = new Chalk({ level: 0 });
const result = { checkId: 'certificates/chain', category: 'certificates', cluster: 'cluster1', outcome: 'pass', durationMs: 1, findings: [] } as CheckResult;
const cert = (role: 'ca-cert' | 'intermediate' | 'root', subject: string, issuer: string, fp: string) => ({
  role,
  subject,
  issuer,
  fingerprint: fp.repeat(64 / fp.length),
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2028-01-01T00:00:00.000Z',
});

describe('chain detail renderer', () => {
  it('draws the path root first, with fingerprint prefixes and not-after dates', () => {
    const detail: ChainDetail = {
      secret: 'istio-system/cacerts',
      form: 'cacerts',
      trusted: true,
      path: [cert('ca-cert', 'CN=Cluster CA', 'CN=Intermediate', 'cc'), cert('intermediate', 'CN=Intermediate', 'CN=Root CA', 'bb'), cert('root', 'CN=Root CA', 'CN=Root CA', 'aa')],
      roots: [],
    };
    expect(renderChain(detail, { chalk, result })).toEqual([
      'CA chain (istio-system/cacerts, cacerts form)',
      '  root CN=Root CA  issuer CN=Root CA  sha256 aa:aa:aa:aa:aa:aa:aa:aa  not after 2028-01-01',
      '  └─ intermediate CN=Intermediate  issuer CN=Root CA  sha256 bb:bb:bb:bb:bb:bb:bb:bb  not after 2028-01-01',
      '     └─ ca-cert CN=Cluster CA  issuer CN=Intermediate  sha256 cc:cc:cc:cc:cc:cc:cc:cc  not after 2028-01-01',
    ]);
  });

  it('shows root-cert.pem and the missing link when the chain does not reach it', () => {
    const detail: ChainDetail = {
      secret: 'istio-system/cacerts',
      form: 'tls',
      trusted: false,
      path: [cert('ca-cert', 'CN=Cluster CA', 'CN=Other Root', 'cc')],
      roots: [cert('root', 'CN=Root CA', 'CN=Root CA', 'aa')],
    };
    const lines = renderChain(detail, { chalk, result });
    expect(lines[0]).toBe('CA chain (istio-system/cacerts, tls form) - does not reach root-cert.pem');
    expect(lines[1]).toContain('root-cert.pem: root CN=Root CA');
    expect(lines[2]).toContain('missing link: issuer of CN=Cluster CA');
    expect(lines[3]).toMatch(/^ {2}└─ ca-cert CN=Cluster CA/);
  });

  it('renders nothing for an unknown shape', () => {
    expect(renderChain({ nope: true }, { chalk, result })).toEqual([]);
    expect(renderChain(undefined, { chalk, result })).toEqual([]);
  });
});
