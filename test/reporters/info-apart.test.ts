// An info finding beside errors is context, not part of the failure (issue 13): it follows the
// errors and warnings under a notes line, dimmed; alone it stays as it was.
import { describe, expect, it } from 'vitest';
import { renderHuman } from '../../src/reporters/human.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';
import { realisticReport, withResults } from './helpers.ts';

/** The realistic report with shared-root's info finding listed before its error (as a check may emit them). */
function infoFirst() {
  const report = realisticReport();
  const results = report.results.map((result) =>
    result.checkId === 'certificates/shared-root' ? { ...result, findings: [...result.findings].reverse() } : result,
  );
  expect(results.find((r) => r.checkId === 'certificates/shared-root')!.findings.map((f) => f.severity)).toEqual(['info', 'error']);
  return withResults(report, results);
}

/** The lines of the shared-root block, from its check line to its `see:` line. */
function block(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => stripAnsi(line).includes('certificates/shared-root [*]'));
  const end = lines.findIndex((line, index) => index > start && stripAnsi(line).includes('see: meshdoctor explain certificates/shared-root'));
  return lines.slice(start, end + 1);
}

describe('info findings in a failed check', () => {
  it('follow the errors under a notes line, dimmed', () => {
    const lines = block(renderHuman(infoFirst(), { color: true }));
    const plain = lines.map(stripAnsi);
    const error = plain.findIndex((line) => /^ {6}error /.test(line));
    const notes = plain.findIndex((line) => /^ {6}notes\b/.test(line));
    const info = plain.findIndex((line) => /^ {6}info /.test(line));
    expect(error).toBeGreaterThan(0);
    expect(notes).toBeGreaterThan(error);
    expect(info).toBe(notes + 1);
    // The note's text is dimmed (SGR 2); the error's is not.
    expect(lines[info]).toContain('\u001b[2m2 distinct roots');
    expect(lines[error]).not.toContain('\u001b[2m');
  });

  it('stay as they are when no error or warning sits beside them', () => {
    const report = realisticReport();
    const results = report.results.map((result) =>
      result.checkId === 'certificates/shared-root' ? { ...result, outcome: 'pass' as const, findings: result.findings.filter((f) => f.severity === 'info') } : result,
    );
    const plain = block(renderHuman(withResults(report, results), { color: false }));
    expect(plain.some((line) => /^ {6}notes\b/.test(line))).toBe(false);
    expect(plain.some((line) => /^ {6}info /.test(line))).toBe(true);
  });
});
