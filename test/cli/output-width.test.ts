// Output that fits (issue 13): with COLUMNS (or a terminal's width) no line of the human report,
// `checks` or `explain` is wider; piped without COLUMNS nothing wraps, so a finding stays one line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/engine/types.ts';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import { main } from '../../src/cli/main.ts';
import { renderHuman } from '../../src/reporters/human.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';
import { displayWidth } from '../../src/reporters/wrap.ts';
import { runCliInProcess } from './run-cli.ts';

const WIDTHS = [60, 80, 120];

/** The lines of `text` wider than `width`, colour taken off. */
function tooWide(text: string, width: number): string[] {
  return text.split('\n').filter((line) => displayWidth(stripAnsi(line)) > width);
}

const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-width-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the human report on the demo lab', () => {
  // One lab run: the human report at COLUMNS=60 on stdout, the same report as JSON in a file for the other widths.
  const run = runCliInProcess(['all', '--lab', '-o', 'human', '-o', `json=${join(dir, 'report.json')}`], { COLUMNS: '60' });

  it('fits COLUMNS=60 from the CLI', async () => {
    const { stdout, exitCode } = await run;
    expect(exitCode).toBe(1);
    expect(tooWide(stdout, 60)).toEqual([]);
    // The findings are all there, wrapped rather than cut off.
    expect(stdout).toMatch(/^ {6}error {3}/m);
    expect(stdout).toContain('cluster: cluster1');
  });

  it.each(WIDTHS)('fits %i columns, in colour too, and does not wrap without a width', async (width) => {
    await run;
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    for (const color of [false, true]) expect(tooWide(renderHuman(report, { color, width }), width)).toEqual([]);
    const unwrapped = renderHuman(report, { color: false });
    // The demo's findings are longer than any of these widths: without a width each is one line.
    expect(tooWide(unwrapped, width).some((line) => /^ {6}error {3}\S/.test(line))).toBe(true);
    const wrapped = renderHuman(report, { color: false, width });
    expect(wrapped.split('\n').length).toBeGreaterThan(unwrapped.split('\n').length);
  });
});

describe('checks and explain', () => {
  it.each(WIDTHS)('fit COLUMNS=%i', async (width) => {
    const list = await runCliInProcess(['checks'], { COLUMNS: String(width) });
    expect(list.exitCode).toBe(0);
    expect(tooWide(list.stdout, width)).toEqual([]);
    for (const check of BUILTIN_CHECKS) {
      const explain = await runCliInProcess(['explain', check.id], { COLUMNS: String(width) });
      expect(explain.exitCode).toBe(0);
      expect(tooWide(explain.stdout, width), check.id).toEqual([]);
    }
  });

  it('do not wrap when piped without COLUMNS', async () => {
    const list = await runCliInProcess(['checks']);
    expect(tooWide(list.stdout, 160).length).toBeGreaterThan(0);
    const explain = await runCliInProcess(['explain', 'network/cross-network-gateway']);
    expect(tooWide(explain.stdout, 400).length).toBeGreaterThan(0);
  });

  it('fit a terminal: its own width, 80 when it reports none', async () => {
    for (const [columns, width] of [[70, 70], [undefined, 80]] as const) {
      let stdout = '';
      const exitCode = await main(['checks'], {
        stdout: { write: (text: string) => (stdout += text), isTTY: true },
        stderr: { write: () => true, isTTY: false },
        env: { CI: 'true' },
        cwd: process.cwd(),
        version: '0.0.0-test',
        columns,
      });
      expect(exitCode).toBe(0);
      expect(tooWide(stdout, width)).toEqual([]);
      expect(tooWide(stdout, width - 10).length).toBeGreaterThan(0);
    }
  });
});
