// Root causes on the demo lab (a cross-network Gateway with ISTIO_MUTUAL on cluster1, cluster2 on
// another root): the JSON report names the two faults as root causes and every other error finding
// as explained by findings of the report; the human report starts with them, the rest folded
// under; JUnit marks each failure as a root cause or a consequence of what.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStringPromise } from 'xml2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mostSevere } from '../../src/engine/severity.ts';
import type { ReportFindingRef as FindingRef, Report } from '../../src/engine/types.ts';
import { runCliInProcess, type CliRun } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshdoctor-rc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One run, three formats: the human section, the JSON links and the JUnit marks describe the same report.
let run: CliRun;
let report: Report;
let junit: string;
beforeAll(async () => {
  run = await runCliInProcess(['all', '--lab', '-o', 'human', '-o', `json=${join(dir, 'report.json')}`, '-o', `junit=${join(dir, 'report.xml')}`]);
  report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  junit = readFileSync(join(dir, 'report.xml'), 'utf8');
}, 60_000);

const at = (ref: FindingRef) => report.results.find((r) => r.checkId === ref.checkId && r.cluster === ref.cluster)?.findings[ref.index];

describe('root causes on the demo lab', () => {
  it('are the shared-root and cross-network-gateway findings; every other error is explained', () => {
    expect(run.exitCode).toBe(1);
    expect(report.rootCauses.map((ref) => `${ref.checkId} [${at(ref)?.cluster}] ${ref.messageId}`).sort()).toEqual([
      'certificates/shared-root [cluster2] rootMismatch',
      'network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual',
    ]);
    // References resolve to the findings they name.
    for (const ref of report.rootCauses) expect(at(ref)?.messageId).toBe(ref.messageId);
    const errors = report.results.flatMap((r) => r.findings.filter((f) => f.severity === 'error'));
    expect(errors.length).toBeGreaterThan(2);
    for (const finding of errors) {
      const isRoot = report.rootCauses.some((ref) => at(ref) === finding);
      if (isRoot) continue;
      expect(finding.explainedBy, `${finding.checkId} [${finding.cluster}] ${finding.messageId}`).toBeDefined();
      for (const ref of finding.explainedBy!) expect(at(ref)?.messageId).toBe(ref.messageId);
    }
  });

  it('the human report starts with the two root causes, every other error finding folded under one by check and cluster', () => {
    const lines = run.stdout.split('\n');
    // The section: after the cluster table, before the first category of the listing.
    const start = lines.findIndex((line) => line.startsWith('└')) + 2;
    const end = lines.indexOf('control-plane');
    expect(end).toBeGreaterThan(start);
    const roots: { root: string; folded: string[] }[] = [];
    for (const line of lines.slice(start, end)) {
      const root = /^ {2}\d+\. ✖ (\S+) \[([^\]]+)\]$/.exec(line);
      if (root) roots.push({ root: `${root[1]} [${root[2]}]`, folded: [] });
      const group = /^ {9}(\S+ \[[^\]]+\]) {2,}\S/.exec(line);
      if (group) roots.at(-1)!.folded.push(group[1]);
    }
    expect(roots.map((r) => r.root.split(' ')[0]).sort()).toEqual(['certificates/shared-root', 'network/cross-network-gateway']);
    const rootFindings = new Set(report.rootCauses.map(at));
    expect(roots.map((r) => r.root).sort()).toEqual(report.rootCauses.map((ref) => `${ref.checkId} [${at(ref)?.cluster}]`).sort());
    const consequences = report.results.flatMap((r) => r.findings.filter((f) => f.severity === 'error' && !rootFindings.has(f)));
    expect(consequences.length).toBeGreaterThan(0);
    const folded = new Set(roots.flatMap((r) => r.folded));
    for (const finding of consequences) expect(folded, `${finding.checkId} [${finding.cluster}]`).toContain(`${finding.checkId} [${finding.cluster}]`);
    // And nothing is folded that the report does not hold as a consequence.
    expect([...folded].sort()).toEqual([...new Set(consequences.map((f) => `${f.checkId} [${f.cluster}]`))].sort());
    // The check-by-check listing follows, whole.
    for (const result of report.results) expect(lines.slice(end)).toContainEqual(expect.stringContaining(` ${result.checkId} [${result.cluster}] `));
  });

  it('JUnit marks each failure as a root cause or a consequence of its explainers (check, cluster, messageId)', async () => {
    type Case = { $: { name: string }; failure?: { $: { message: string; type: string } }[] };
    const document = (await parseStringPromise(junit)) as { testsuites: { testsuite: { testcase: Case[] }[] } };
    const failures = document.testsuites.testsuite.flatMap((suite) => suite.testcase).filter((testcase) => testcase.failure);
    const marked = { root: [] as string[], consequence: [] as string[] };
    for (const testcase of failures) {
      const result = report.results.find((r) => `${r.checkId} [${r.cluster}]` === testcase.$.name)!;
      const worst = mostSevere(result.findings)!;
      const { message, type } = testcase.failure![0].$;
      expect(type).toBe(worst.messageId);
      if (report.rootCauses.some((ref) => at(ref) === worst)) {
        expect(message).toMatch(/ \(root cause\)$/);
        marked.root.push(result.checkId);
      } else {
        const causes = worst.explainedBy!.map((ref) => `${ref.checkId} on ${at(ref)!.cluster}: ${ref.messageId}`);
        expect(message.endsWith(` (consequence of ${causes.join('; ')})`), message).toBe(true);
        marked.consequence.push(result.checkId);
      }
    }
    expect(marked.root.sort()).toEqual(['certificates/shared-root', 'network/cross-network-gateway']);
    expect(new Set(marked.consequence)).toEqual(new Set(['certificates/workload', 'connectivity/cross-cluster', 'connectivity/http', 'observability/cross-cluster-traffic']));
  });
});
