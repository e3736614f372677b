import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { fillTemplate } from '../../src/engine/run.ts';
import type { Report } from '../../src/engine/types.ts';
import { render } from '../../src/reporters/index.ts';
import {
  REDACTED,
  redactReport,
  redactSecrets,
  shellContextAt,
  shellQuote,
  stripAnsi,
  stripControlChars,
  terminalLines,
  terminalSafeJson,
  terminalText,
} from '../../src/reporters/sanitize.ts';
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

describe('terminalText', () => {
  it('shows C0, C1, DEL, newlines and bidi controls as visible escapes; keeps tab and ordinary text', () => {
    expect(terminalText('a\u001b]0;title\u0007b\u001b[2Jc\r\nd\te\u009bf\u007fg\u202eh\u2066i\u2028j')).toBe('a\\x1b]0;title\\x07b\\x1b[2Jc\\r\\nd\te\\x9bf\\x7fg\\u202eh\\u2066i\\u2028j');
    expect(terminalText('ünïcode 🙂 stays')).toBe('ünïcode 🙂 stays');
  });

  it('redacts secrets too', () => {
    expect(terminalText(`token ${SECRET_JWT}`)).toBe(`token ${REDACTED}`);
  });

  it('terminalLines keeps meshdoctor\'s own line breaks and escapes the rest', () => {
    expect(terminalLines('one\ntwo\u001b[2J\rthree')).toBe('one\ntwo\\x1b[2J\\rthree');
  });

  it('terminalSafeJson escapes what JSON.stringify leaves raw, and the document parses to the same value', () => {
    const value = { name: 'a\u009b2Jb\u202ec\u2028d\u007f', esc: '\u001b[0m' };
    const json = terminalSafeJson(JSON.stringify(value));
    // eslint-disable-next-line no-control-regex
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('shellQuote and shellContextAt', () => {
  const HOSTILE_VALUES = ['$(touch MARKER)', '`touch MARKER`', "'; touch MARKER; '", '"; touch MARKER; "', 'a b', 'back\\slash', '*', 'two\nlines', '', 'plain-name.ns.svc:8080/x'];
  const TEMPLATES: [template: string, expected: (value: string) => string][] = [
    ["printf '%s\\n' {{v}}", (v) => v],
    ["printf '%s\\n' label={{v}}", (v) => `label=${v}`],
    ["printf '%s\\n' \"outbound|{{v}}||x\"", (v) => `outbound|${v}||x`],
    ["printf '%s\\n' 'query={{v}} end'", (v) => `query=${v} end`],
  ];

  it('quotes only what needs it', () => {
    expect(shellQuote('istio-system')).toBe('istio-system');
    expect(shellQuote('https://10.0.0.1:6443/version')).toBe('https://10.0.0.1:6443/version');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('tells the quoting context of a placeholder, ignoring apostrophes in prose', () => {
    const at = (template: string) => shellContextAt(template, template.indexOf('{{'));
    expect(at("istiod's pod: kubectl get ns {{v}}")).toBe('bare');
    expect(at('grep "outbound|{{v}}||x"')).toBe('double');
    expect(at("curl --data-urlencode 'query={{v}}'")).toBe('single');
    expect(at("kubectl patch -p '[{\"op\":\"x\"}]' {{v}}")).toBe('bare');
  });

  it.each(TEMPLATES)('a real shell reads every value literally and runs nothing: %s', (template, expected) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdoctor-shell-'));
    try {
      for (const value of HOSTILE_VALUES) {
        const command = fillTemplate(template, { v: value }, { shell: true });
        const stdout = execFileSync('/bin/sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
        expect(stdout).toBe(`${expected(value)}\n`);
        expect(existsSync(path.join(dir, 'MARKER'))).toBe(false);
        // Shown to a human, the command is one line.
        expect(terminalText(command)).not.toContain('\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every built-in hint leaves its quotes balanced, so each placeholder\'s context is the real one', () => {
    for (const check of BUILTIN_CHECKS) {
      for (const [messageId, message] of Object.entries(check.meta.messages)) {
        expect([`${check.id}/${messageId}`, shellContextAt(message.hint, message.hint.length)]).toEqual([`${check.id}/${messageId}`, 'bare']);
      }
    }
  });
});
