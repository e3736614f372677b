// CLI behaviour pinned by snapshots of command, stdout, stderr and exit code, as a table of
// [name, flags]. Lab runs use fresh key material each time: fingerprints, ports, temp paths and
// durations are scrubbed; everything else must stay exactly as recorded.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { abridgeDemoOutput, exampleBlock, exampleIn } from '../../scripts/readme-example.ts';
import { REPO_ROOT, asSnapshot, runCliInProcess, runCliProcess, scrub } from './run-cli.ts';

const out = mkdtempSync(join(tmpdir(), 'meshdoctor-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const CASES: [name: string, args: string[], exitCode: number][] = [
  ['healthy-multi-primary', ['all', '--lab', 'multi-primary', '--skip', 'connectivity'], 0],
  ['demo-human', ['all', '--lab'], 1],
  ['demo-problems-only', ['all', '--lab', '--skip', 'connectivity', '--problems-only'], 1],
  ['demo-json', ['all', '--lab', '-o', 'json', '--skip', 'connectivity'], 1],
  ['demo-junit', ['all', '--lab', '-o', 'junit', '--skip', 'connectivity'], 1],
  ['ewgw-lb-pending', ['network', '--lab', 'multi-primary', '--fault', 'ewgw-lb-pending:cluster2', '--only', 'network/eastwest-gateway'], 1],
  ['root-mismatch-only', ['all', '--lab', 'multi-primary', '--fault', 'root-mismatch', '--only', 'certificates/shared-root'], 1],
  ['skip-category', ['all', '--lab', '--skip', 'certificates', '--skip', 'network', '--skip', 'connectivity', '--skip', 'services', '--skip', 'observability'], 0],
  ['fail-on-never', ['all', '--lab', '--only', 'certificates/shared-root', '--fail-on', 'never'], 0],
  ['plugin-warning', ['control-plane', '--lab', 'multi-primary', '--plugin', 'test/cli/plugins/team-policy.ts', '--only', 'control-plane/team-revision'], 0],
  ['plugin-warning-fail-on-warning', ['control-plane', '--lab', 'multi-primary', '--plugin', 'test/cli/plugins/team-policy.ts', '--only', 'control-plane/team-revision', '--fail-on', 'warning'], 1],
  ['probe-error-exit-3', ['connectivity', '--lab', 'multi-primary', '--plugin', 'test/cli/plugins/flaky-probe.ts', '--only', 'connectivity/broken-probe'], 3],
  ['offline-snapshot', ['all', '--snapshot', 'fixtures/root-mismatch'], 1],
  ['unknown-context', ['all', '--lab', 'multi-primary', '--context', 'nope'], 2],
  ['garbage-kubeconfig', ['all', '--kubeconfig', 'test/cli/garbage.kubeconfig'], 2],
  ['missing-snapshot-dir', ['all', '--snapshot', 'fixtures/does-not-exist'], 2],
  ['unknown-flag', ['all', '--frobnicate'], 2],
  ['unknown-check', ['all', '--lab', '--only', 'shared-root'], 2],
  ['unknown-category', ['dns'], 2],
  ['typo-category', ['netwrok'], 2],
  ['typo-flag', ['all', '--lab', '--onyl', 'network'], 2],
  ['typo-check-id', ['all', '--lab', '--only', 'certificates/shard-root'], 2],
  ['typo-explain', ['explain', 'network/topolgy'], 2],
  ['bad-output-format', ['all', '--lab', '-o', 'xml'], 2],
  ['bad-timeout', ['all', '--lab', '--timeout', 'soon'], 2],
  ['fault-without-lab', ['all', '--fault', 'root-mismatch'], 2],
  ['unknown-fault', ['all', '--lab', '--fault', 'cosmic-rays'], 2],
  ['no-checks-selected', ['test', '--lab', '--only', 'certificates'], 2],
  ['bad-fail-on', ['all', '--fail-on', 'bad'], 2],
  ['bad-probe-count', ['all', '--lab', '--probe-count', '0'], 2],
  ['missing-plugin', ['all', '--lab', '--plugin', './no-such-plugin.ts'], 2],
  ['not-a-plugin', ['all', '--lab', '--plugin', 'test/cli/plugins/not-a-check.ts'], 2],
  ['checks-list', ['checks'], 0],
  ['explain', ['explain', 'certificates/shared-root'], 0],
  ['explain-unknown', ['explain', 'network/nope'], 2],
];

describe('meshdoctor CLI', () => {
  it.each(CASES)('%s', async (name, args, exitCode) => {
    const run = await runCliInProcess(args);
    await expect(asSnapshot(run)).toMatchFileSnapshot(`__snapshots__/${name}.md`);
    expect(run.exitCode).toBe(exitCode);
    // Nothing a user sees carries a stack trace.
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('checks -o json lists every check with id, category, scope and description', async () => {
    const run = await runCliInProcess(['checks', '-o', 'json']);
    expect(run.exitCode).toBe(0);
    const rows = JSON.parse(run.stdout) as { id: string; category: string; scope: string; description: string }[];
    expect(rows.map((r) => r.id)).toContain('certificates/shared-root');
    for (const row of rows) expect(Object.keys(row)).toEqual(expect.arrayContaining(['id', 'category', 'scope', 'description']));
  });

  it('writes JUnit and JSON files atomically next to a human report on stdout', async () => {
    const junit = join(out, 'reports/meshdoctor.xml');
    const json = join(out, 'reports/meshdoctor.json');
    const run = await runCliInProcess(['all', '--lab', '--skip', 'connectivity', '-o', 'human', '-o', `junit=${junit}`, '-o', `json=${json}`]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('certificates/shared-root');
    expect(readFileSync(junit, 'utf8')).toMatch(/^<\?xml[\s\S]*<testsuites[\s\S]*certificates\/shared-root \[\*\]/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report).toMatchObject({ schemaVersion: 1, exitCode: 1 });
    expect(existsSync(`${junit}.tmp`)).toBe(false);
  });

  it('a run that aborts early still writes its JUnit file, saying why (exit 2)', async () => {
    const junit = join(out, 'aborted/meshdoctor.xml');
    const run = await runCliInProcess(['all', '--kubeconfig', 'test/cli/garbage.kubeconfig', '-o', `junit=${junit}`]);
    expect(run.exitCode).toBe(2);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testcase name="meshdoctor run" classname="meshdoctor.run"[^>]*>\s*<error message="run aborted: kubeconfig [^"]*garbage.kubeconfig: invalid kubeconfig/);
  });

  it('--wait re-runs a failing check until it passes', async () => {
    const run = await runCliInProcess(['network', '--lab', 'multi-primary', '--plugin', 'test/cli/plugins/second-try.ts', '--only', 'network/settles', '--wait', '7s', '-o', 'json']);
    const report = JSON.parse(run.stdout);
    expect(report.results.map((r: { checkId: string; outcome: string }) => [r.checkId, r.outcome])).toEqual([['network/settles', 'pass']]);
    expect(run.exitCode).toBe(0);
  }, 30_000);

  it('the real binary: exit codes and one-line errors without stack traces', async () => {
    const ok = await runCliProcess(['explain', 'control-plane/istiod-ready']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('control-plane/istiod-ready');
    const bad = await runCliProcess(['all', '--snapshot', 'fixtures/does-not-exist']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const findings = await runCliProcess(['all', '--snapshot', 'fixtures/root-mismatch', '-o', 'json']);
    expect(findings.exitCode).toBe(1);
    expect(JSON.parse(findings.stdout).exitCode).toBe(1);
  });

  it('the README example is the demo as `npm start` prints it into a pipe (regenerate: npm run docs)', async () => {
    const run = await runCliProcess(['all', '--lab'], { COLUMNS: undefined });
    expect(run.exitCode).toBe(1);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    // Key material and durations differ between runs: compared scrubbed, as the snapshots are.
    expect(scrub(exampleIn(readme) ?? 'README.md has no example block')).toBe(scrub(exampleBlock(abridgeDemoOutput(run.stdout))));
  }, 60_000);
});
