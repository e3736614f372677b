// The root-cause section of the human report, from links set by hand (what the engine's linking
// produces is tested in test/engine/root-causes.test.ts): which root causes, which consequences fold
// under which, by check and cluster, and the section's hygiene.
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import type { CheckResult, Finding, Report, ReportFindingRef } from '../../src/engine/types.ts';
import { rootCauseSection, summarizeRootCauses } from '../../src/reporters/root-cause-section.ts';
import { renderHuman } from '../../src/reporters/human.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';
import { HOSTILE_TEXT, healthyReport, summarize, withResults } from './helpers.ts';

const ref = (checkId: string, cluster: string, index: number, messageId: string): ReportFindingRef => ({ checkId, cluster, index, messageId });
const ROOT = ref('certificates/shared-root', '*', 0, 'rootMismatch');
const GATEWAY = ref('network/cross-network-gateway', 'c1', 0, 'istioMutual');
const CROSS = ref('connectivity/cross-cluster', '*', 0, 'allRequestsFailed');
const CYCLE_A = ref('services/a', 'c2', 0, 'a');
const CYCLE_B = ref('services/b', 'c2', 0, 'b');

function finding(checkId: string, messageId: string, cluster: string, explainedBy?: ReportFindingRef[], severity: Finding['severity'] = 'error'): Finding {
  return { checkId, messageId, cluster, severity, message: `${messageId} on ${cluster}`, hint: `fix ${messageId}`, ...(explainedBy ? { explainedBy } : {}) };
}

function result(checkId: string, cluster: string, findings: Finding[]): CheckResult {
  return { checkId, category: checkId.split('/')[0] as CheckResult['category'], cluster, outcome: 'fail', durationMs: 1, findings };
}

/**
 * Two root causes (a mesh-scope finding about c2, a warning on c1); a consequence of both, one of
 * the root alone, an info finding, a consequence of a consequence, and two findings that name each
 * other and the root.
 */
function linkedReport(): Report {
  const results = [
    result('certificates/shared-root', '*', [finding('certificates/shared-root', 'rootMismatch', 'c2')]),
    result('network/cross-network-gateway', 'c1', [finding('network/cross-network-gateway', 'istioMutual', 'c1', undefined, 'warning')]),
    result('connectivity/cross-cluster', '*', [
      finding('connectivity/cross-cluster', 'allRequestsFailed', 'c1', [GATEWAY, ROOT]),
      finding('connectivity/cross-cluster', 'allRequestsFailed', 'c2', [ROOT]),
      finding('connectivity/cross-cluster', 'latency', 'c2', undefined, 'info'),
    ]),
    result('observability/traffic', 'c1', [finding('observability/traffic', 'highErrorRate', 'c1', [CROSS]), finding('observability/traffic', 'highErrorRate', 'c1', [CROSS])]),
    result('services/a', 'c2', [finding('services/a', 'a', 'c2', [CYCLE_B, ROOT])]),
    result('services/b', 'c2', [finding('services/b', 'b', 'c2', [CYCLE_A])]),
  ];
  return { ...healthyReport(), results, summary: summarize(results), rootCauses: [ROOT, GATEWAY], exitCode: 1 };
}

type Shape = [root: string, consequences: [group: string, count: number][]][];
const shape = (report: Report): Shape =>
  summarizeRootCauses(report).rootCauses.map((entry) => [
    `${entry.finding.checkId} [${entry.finding.cluster}]`,
    entry.consequences.map((group) => [`${group.checkId} [${group.cluster}]`, group.findings.length]),
  ]);

describe('summarizeRootCauses', () => {
  it('folds every consequence under each root cause its chain reaches, by check and cluster, in report order', () => {
    const report = linkedReport();
    expect(shape(report)).toEqual([
      [
        'certificates/shared-root [c2]',
        [
          ['connectivity/cross-cluster [c1]', 1],
          ['connectivity/cross-cluster [c2]', 1],
          ['observability/traffic [c1]', 2],
          ['services/a [c2]', 1],
          ['services/b [c2]', 1],
        ],
      ],
      [
        'network/cross-network-gateway [c1]',
        [
          ['connectivity/cross-cluster [c1]', 1],
          ['observability/traffic [c1]', 2],
        ],
      ],
    ]);
    // Distinct findings: the ones both root causes lead to count once; the info finding takes no part.
    expect(summarizeRootCauses(report).explained).toBe(6);
  });

  it('has nothing when no finding is an error or a warning', () => {
    // Linked by the engine (withResults): an info finding is no root cause.
    const report = withResults(healthyReport(), [{ ...result('connectivity/http', 'east', [finding('connectivity/http', 'latency', 'east', undefined, 'info')]), outcome: 'pass' }]);
    expect(summarizeRootCauses(report)).toEqual({ rootCauses: [], explained: 0 });
    expect(rootCauseSection(report, new Chalk({ level: 1 }))).toEqual([]);
    const text = renderHuman(report, { color: false });
    expect(text).toContain('latency on east');
    expect(text.split('\n').filter((line) => /^ {2}\d+\. [✖‼] /.test(line))).toEqual([]);
  });
});

describe('rootCauseSection', () => {
  const plain = new Chalk({ level: 0 });
  /** Root-cause lines as `checkId [cluster]`, and the consequence group labels under each. */
  const parse = (lines: string[]) => {
    const roots: [string, string[]][] = [];
    for (const line of lines) {
      const root = /^ {2}\d+\. [✖‼] (\S+ \[[^\]]+\])$/.exec(line);
      if (root) roots.push([root[1], []]);
      const group = /^ {9}(\S+ \[[^\]]+\]) {2,}\S/.exec(line);
      if (group) roots.at(-1)![1].push(group[1]);
    }
    return roots;
  };

  it('lists each root cause with its message and hint, then its consequence groups', () => {
    const lines = rootCauseSection(linkedReport(), plain);
    expect(parse(lines)).toEqual(shape(linkedReport()).map(([root, groups]) => [root, groups.map(([group]) => group)]));
    expect(lines).toContain('       rootMismatch on c2');
    expect(lines).toContain('       hint: fix istioMutual');
  });

  it('comes right after the cluster table, before the listing', () => {
    const text = renderHuman(linkedReport(), { color: false, hideDurations: true });
    const section = rootCauseSection(linkedReport(), plain).join('\n');
    const table = text.indexOf('└');
    expect(text.indexOf(section)).toBeGreaterThan(table);
    expect(text.slice(table, text.indexOf(section))).toMatch(/^└[^\n]*┘\n\n$/);
    expect(text.indexOf(section)).toBeLessThan(text.indexOf('\ncertificates\n'));
  });

  it('colours only with colour on, and shows text from clusters as visible escapes', () => {
    const report = linkedReport();
    report.results[0].findings[0].message = HOSTILE_TEXT;
    report.results[0].findings[0].cluster = 'c2\u001b[2J\nforged';
    const coloured = rootCauseSection(report, new Chalk({ level: 1 }));
    const text = rootCauseSection(report, plain);
    expect(coloured.join('\n')).toContain('\u001b[');
    expect(coloured.map(stripAnsi)).toEqual(text);
    expect(text.join('\n')).not.toContain('\u001b');
    expect(text.some((line) => line.includes('certificates/shared-root [c2\\x1b[2J\\nforged]'))).toBe(true);
    expect(text.join('\n').split('\n')).toHaveLength(text.length);
  });
});
