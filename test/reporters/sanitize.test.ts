import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/engine/types.ts';
import { render } from '../../src/reporters/index.ts';
import { REDACTED, redactReport, redactSecrets, stripAnsi, stripControlChars } from '../../src/reporters/sanitize.ts';
import { OUTPUT_FORMATS } from '../../src/reporters/write.ts';
import { SECRET_BEARER, SECRET_JWT, SECRET_PEM, realisticReport } from './helpers.ts';

describe('redactSecrets', () => {
  it('replaces PEM private key blocks of every flavour', () => {
    for (const label of ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']) {
      const pem = SECRET_PEM.replaceAll('RSA PRIVATE KEY', label);
      expect(redactSecrets(`key: ${pem} (end)`)).toBe(`key: ${REDACTED} (end)`);
    }
  });

  it('redacts a truncated private key block to the end of the text', () => {
    expect(redactSecrets('tls.key=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC')).toBe(`tls.key=${REDACTED}`);
  });

  it('keeps certificates, which are public', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----';
    expect(redactSecrets(cert)).toBe(cert);
  });

  it('replaces bearer tokens and JWTs, not the word "Bearer" in prose', () => {
    expect(redactSecrets(`Authorization: ${SECRET_BEARER}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets(`token ${SECRET_JWT} expired`)).toBe(`token ${REDACTED} expired`);
    expect(redactSecrets('Bearer token missing')).toBe('Bearer token missing');
  });

  it('redacts every string of a report, at any depth, without changing the original', () => {
    const report = realisticReport();
    report.results[0].data = { nested: [{ header: SECRET_BEARER }] };
    const redacted = redactReport(report);
    expect(redacted.results[0].data).toEqual({ nested: [{ header: `Bearer ${REDACTED}` }] });
    expect(report.results[0].data).toEqual({ nested: [{ header: SECRET_BEARER }] });
    expect(redacted.summary).toEqual(report.summary);
  });
});

describe('every reporter redacts secrets', () => {
  function leakyReport(): Report {
    const report = realisticReport();
    const finding = report.results[1].findings[0];
    finding.message = `istiod logs: ${SECRET_PEM}`;
    finding.hint = `curl -H "Authorization: ${SECRET_BEARER}" https://10.0.0.1:6443`;
    report.results[8].error = `exec failed with token ${SECRET_JWT}`;
    report.results[0].data = { chain: SECRET_PEM };
    return report;
  }

  it.each(OUTPUT_FORMATS)('%s', (format) => {
    const output = render(format, leakyReport(), { color: false });
    expect(output).toContain(REDACTED);
    for (const secret of ['MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 's3cr3t-t0ken-value', SECRET_JWT, 'PRIVATE KEY']) {
      expect(output).not.toContain(secret);
    }
  });
});

describe('stripAnsi and stripControlChars', () => {
  it('remove colours, cursor moves and OSC hyperlinks', () => {
    expect(stripAnsi('\u001b[1;31mred\u001b[0m \u001b[2K\u001b[1Gline \u001b]8;;https://istio.io\u0007link\u001b]8;;\u001b\\')).toBe('red line link');
  });

  it('keep tab, newline and carriage return', () => {
    expect(stripControlChars('a\u0000\u0001\u0007\u0008b\tc\nd\re\u007f\u0085f\u001b[0m')).toBe('ab\tc\nd\ref');
  });
});
