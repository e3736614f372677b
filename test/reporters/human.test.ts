import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/engine/types.ts';
import { DURATION_PLACEHOLDER, formatDuration, renderHuman } from '../../src/reporters/human.ts';
import type { DetailRenderer } from '../../src/reporters/details/renderer.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';
import { HOSTILE_TEXT, healthyReport, realisticReport, withResults } from './helpers.ts';

const ESC = '\u001b';
// C0 but tab, DEL, C1, bidi controls and line separators: nothing of it may reach a terminal.
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const plain = (report: Report) => renderHuman(report, { color: false, hideDurations: true });
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

describe('renderHuman', () => {
  it('renders the realistic report (colour off)', async () => {
    await expect(plain(realisticReport())).toMatchFileSnapshot('./__snapshots__/human-realistic.txt');
  });

  it('--problems-only lists only failed, warned and errored checks, says what it left out, keeps the summary whole', () => {
    const report = realisticReport();
    const full = renderHuman(report, { color: false });
    const short = renderHuman(report, { color: false, problemsOnly: true });
    const listed = (text: string) => report.results.filter((r) => text.includes(`${r.checkId} [${r.cluster}]`)).map((r) => r.outcome);
    expect(listed(full)).toContain('pass');
    expect(new Set(listed(short))).toEqual(new Set(report.results.filter((r) => ['fail', 'warn', 'error'].includes(r.outcome)).map((r) => r.outcome)));
    const passed = report.results.filter((r) => r.outcome === 'pass').length;
    const skipped = report.results.filter((r) => r.outcome === 'skip').length;
    expect(short).toContain(`${passed} passed and ${skipped} skipped not shown`);
    // The totals line counts every check, shown or not.
    const totals = (text: string) => text.split('\n').find((line) => line.startsWith('checks:'));
    expect(totals(short)).toBe(totals(full));
  });

  it('renders a healthy single-cluster report (colour off)', async () => {
    await expect(plain(healthyReport())).toMatchFileSnapshot('./__snapshots__/human-healthy.txt');
  });

  it('emits no ANSI escape at all with colour off, and only adds escapes with colour on', () => {
    const report = realisticReport();
    expect(plain(report)).not.toContain(ESC);
    const coloured = renderHuman(report, { color: true, hideDurations: true });
    expect(coloured).toContain(`${ESC}[`);
    expect(stripAnsi(coloured)).toBe(plain(report));
  });

  it('shows escapes, control characters, newlines and bidi controls from the report as visible escapes', () => {
    const report = realisticReport();
    report.results[1].findings[0].message = HOSTILE_TEXT;
    report.results[1].findings[0].hint = "kubectl create namespace 'evil\r\nforged ✔ line'";
    report.results[2].skipReason = HOSTILE_TEXT;
    report.clusters[0].context = '\u001b[2Jkind-east\u202e';
    const text = plain(report);
    expect(text).not.toMatch(TERMINAL_CONTROLS);
    expect(text).toContain('bad <tag> & "quotes" \'apos\' \\x00nul\\x07bell \\x1b[31mred\\x1b[0m \\x1b]8;;http://x\\x07link\\x1b]8;;\\x07 tab\there');
    expect(text).toContain('\\x1b[2Jkind-east\\u202e');
    // The hint stays one line (in the root-cause section and in the listing): the forged line is not a line.
    const escapedHint = expect.stringContaining("'evil\\r\\nforged ✔ line'");
    expect(text.split('\n').filter((line) => line.includes('hint: kubectl create namespace'))).toEqual([escapedHint, escapedHint]);
    expect(text.split('\n').some((line) => line.startsWith('forged'))).toBe(false);
  });

  it('is deterministic: no wall-clock time, durations replaceable by a placeholder', () => {
    const report = realisticReport();
    expect(plain(report)).toBe(plain(structuredClone(report)));
    expect(plain(report)).not.toContain('2026-05-04T09:30');
    const shown = renderHuman(report, { color: false });
    expect(shown).toContain('42ms');
    expect(shown).toContain('1m16s');
    for (const duration of ['12ms', '42ms', '1.5s', '1m16s', '21.4s']) expect(plain(report)).not.toContain(duration);
    expect(plain(report)).toContain(DURATION_PLACEHOLDER);
  });

  it('shows one line per check and cluster with the outcome mark, in category order', () => {
    const lines = plain(realisticReport()).split('\n');
    const checkLines = lines.filter((line) => /^ {2}[✔✖‼○⚠] /.test(line)).map((line) => line.trim().split(/\s+/).slice(0, 3).join(' '));
    expect(checkLines).toEqual([
      '✔ control-plane/istiod-ready [east]',
      '✖ control-plane/istiod-ready [west]',
      '○ control-plane/istiod-ready [edge]',
      '‼ control-plane/remote-secrets [*]',
      '✔ network/eastwest-gateway [east]',
      '✖ network/eastwest-gateway [west]',
      '✔ network/eastwest-gateway [edge]',
      '✖ certificates/shared-root [*]',
      '⚠ certificates/workload-cert-expiry [east]',
      '○ connectivity/cross-cluster [east]',
    ]);
  });

  it('indents findings with severity, resource, hint and the explain command; mesh findings name their cluster', () => {
    const text = plain(realisticReport());
    expect(text).toContain('      error   Deployment istio-system/istiod: istiod has 0 of 1 replicas ready\n              hint: kubectl --context kind-west');
    expect(text).toContain('      see: meshdoctor explain control-plane/istiod-ready');
    expect(text).toContain('      error   [west] Secret istio-system/cacerts: root certificate of west');
  });

  it('shows when an offline snapshot was taken, and its age only when given "now"', () => {
    const report = { ...realisticReport(), capturedAt: '2026-05-04T06:00:00Z' };
    expect(plain(report).split('\n')[1]).toBe('offline: snapshot captured 2026-05-04T06:00:00Z');
    const aged = renderHuman(report, { color: false, now: new Date('2026-05-04T09:31:00Z') });
    expect(aged.split('\n')[1]).toBe('offline: snapshot captured 2026-05-04T06:00:00Z (3h ago)');
  });

  it('uses the colour level the caller chose', () => {
    expect(renderHuman(realisticReport(), { color: true, colorLevel: 3 })).toContain(`${ESC}[1m`);
    expect(renderHuman(realisticReport(), { color: false, colorLevel: 3 })).not.toContain(ESC);
  });

  it('says why an unreachable cluster could not be read', () => {
    const report = realisticReport();
    report.clusters[2] = { ...report.clusters[2], reachable: false, unreachableReason: 'dial tcp 172.18.0.4:6443: connect: connection refused' };
    expect(plain(report)).toContain('edge unreachable: dial tcp 172.18.0.4:6443: connect: connection refused');
  });

  it('ends with a verdict consistent with the exit code', () => {
    const realistic = realisticReport();
    const onlyErrored = withResults(realistic, realistic.results.filter((result) => result.outcome === 'error' || result.outcome === 'pass'));
    const warnings = withResults(realistic, realistic.results.filter((result) => result.outcome === 'warn'));
    const strict = withResults(warnings, warnings.results, 'warning');
    const never = withResults(realistic, realistic.results, 'never');
    const cases: [Report, number, string][] = [
      [healthyReport(), 0, '✔'],
      [realistic, 1, '✖'],
      [onlyErrored, 3, '⚠'],
      [warnings, 0, '✔'],
      [strict, 1, '✖'],
      [never, 3, '⚠'],
    ];
    for (const [report, exitCode, mark] of cases) {
      expect(report.exitCode).toBe(exitCode);
      expect(lastLine(plain(report)).startsWith(`${mark} `)).toBe(true);
    }
    expect([healthyReport(), realistic, onlyErrored, warnings, strict].map((report) => lastLine(plain(report)))).toMatchSnapshot();
  });

  it('has a summary table of clusters x categories with the worst outcome and counts', () => {
    const text = plain(realisticReport());
    // Summary rows: the cluster column plus one cell per category present (4 here).
    const cells = (name: string) => text.split('\n')
      .map((line) => line.split('│').map((cell) => cell.trim()))
      .find((row) => row.length === 7 && row[1] === name);
    expect(cells('east')?.slice(1, 6)).toEqual(['east', '✔ 1 pass', '✔ 1 pass', '⚠ 1 error', '○ 1 skip']);
    expect(cells('west')?.slice(1, 6)).toEqual(['west', '✖ 1 fail', '✖ 1 fail', '-', '-']);
    expect(cells('* (mesh)')?.slice(1, 6)).toEqual(['* (mesh)', '‼ 1 warn', '-', '✖ 1 fail', '-']);
  });

  it('renders result data through the detail renderer registered for its key', () => {
    const report = realisticReport();
    report.results[0].data = { matrix: { rows: 2 }, unknownKey: 1 };
    const matrix: DetailRenderer = (value, { result }) => [`matrix of ${(value as { rows: number }).rows} rows for ${result.cluster}`];
    const text = renderHuman(report, { color: false, hideDurations: true, detailRenderers: { matrix } });
    expect(text).toContain(`  ✔ control-plane/istiod-ready [east]  ${DURATION_PLACEHOLDER}\n      matrix of 2 rows for east\n`);
    expect(text).not.toContain('unknownKey');
  });

  it('renders a report with no results and no clusters', () => {
    const empty = withResults({ ...healthyReport(), clusters: [] }, []);
    expect(lastLine(plain(empty))).toMatch(/^✔ /);
  });
});

describe('formatDuration', () => {
  it.each([[0, '0ms'], [41.7, '42ms'], [1530, '1.5s'], [59_940, '59.9s'], [75_500, '1m16s'], [3_600_000, '60m00s']])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
