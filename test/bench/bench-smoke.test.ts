// Smoke run of `npm run bench` (issue 19): one run of the smallest scenario, meshdoctor only, so the
// benchmark cannot rot. Asserts the report's structure, never its timings.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (smoke)', () => {
  it('measures meshdoctor on 3 x 30 pods and writes the report', () => {
    const out = join(dir, 'benchmarks.md');
    const json = join(dir, 'bench.json');
    execFileSync(process.execPath, [join(root, 'scripts/bench.ts')], {
      cwd: root,
      env: { ...process.env, BENCH_RUNS: '1', BENCH_SCENARIOS: '30:0', BENCH_BASELINES: '0', BENCH_OUT: out, BENCH_JSON: json },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.startup.nodeMs).toBeGreaterThan(0);
    expect(report.startup.versionMs).toBeGreaterThan(0);
    // Start-up (issue 12): the installed package's commands that talk to no cluster, beside a bare node, at least 5 runs each.
    expect(report.startup.commands.map((c: { name: string }) => c.name)).toEqual([
      'node -e 0',
      'meshdoctor --version',
      'meshdoctor --help',
      'meshdoctor checks',
      'meshdoctor explain certificates/shared-root',
      'meshdoctor lab scenarios',
      'meshdoctor all --snapshot fixtures/multi-primary-healthy',
    ]);
    for (const c of report.startup.commands) {
      expect(c.runs).toBeGreaterThanOrEqual(5);
      expect(c.exits).toEqual([0]);
      expect(c.cpuMs).toBeGreaterThan(0);
    }
    expect(report.scenarios).toHaveLength(1);
    const [scenario] = report.scenarios;
    expect(scenario).toMatchObject({ pods: '30', latencyMs: 0, runs: 1 });
    expect(scenario.commands.map((c: { name: string }) => c.name)).toEqual(['meshdoctor all']);
    const [md] = scenario.commands;
    expect(md.exits).toEqual([0]);
    expect(md.runs).toBe(1);
    expect(md.cpuMs).toBeGreaterThan(0);
    expect(md.rssMb).toBeGreaterThan(0);
    expect(md.labCpuMs).toBeGreaterThan(0);
    expect(md.perCluster.map((p: { cluster: string }) => p.cluster)).toEqual(['cluster1', 'cluster2', 'cluster3']);
    for (const p of md.perCluster) {
      expect(p.requests).toBeGreaterThan(0);
      expect(p.nonList).toBeLessThan(p.requests);
      expect(p.bytes).toBeGreaterThan(0);
    }
    const md_ = readFileSync(out, 'utf8');
    expect(md_).toContain('## 3 clusters x 30 pods, latency 0 ms');
    expect(md_).toContain('## Start-up (issue 12)');
    expect(md_).toContain('## Targets (issue 19)');
    // Each command's own run count is in its row (the kubectl baselines run fewer times than meshdoctor).
    expect(md_).toContain('| command | runs | wall |');
  }, 60_000);
});
