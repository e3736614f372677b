import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Report } from '../../src/engine/types.ts';
import { renderJson } from '../../src/reporters/json.ts';
import { healthyReport, realisticReport } from './helpers.ts';

const schema = JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

function errorsOf(document: unknown): string[] {
  return validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.keyword}`);
}

describe('renderJson', () => {
  it('prints exactly the Report object, 2-space indented, with a trailing newline', () => {
    const report = realisticReport();
    const output = renderJson(report);
    expect(output.endsWith('}\n')).toBe(true);
    expect(output).toContain('\n  "schemaVersion": 1,');
    expect(JSON.parse(output)).toEqual(report);
  });

  it.each([
    ['realistic', realisticReport()],
    ['healthy', healthyReport()],
    ['offline with capturedAt and result data', { ...realisticReport(), capturedAt: '2026-05-04T06:00:00Z' }],
  ])('renders a %s report that validates against the schema', (_name, report: Report) => {
    expect(errorsOf(JSON.parse(renderJson(report)))).toEqual([]);
  });

  it('accepts free-form result data', () => {
    const report = realisticReport();
    report.results[0].data = { matrix: [[{ from: 'east', to: 'west', ok: true }]], chain: { depth: 2 } };
    expect(errorsOf(JSON.parse(renderJson(report)))).toEqual([]);
  });
});

describe('report.schema.json', () => {
  // Each mutation breaks one rule of the Report type; the schema must notice.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutating parsed JSON at arbitrary paths
  const broken: [string, (report: Record<string, any>) => void, string][] = [
    ['an unknown top-level field', (r) => { r.extra = true; }, ' additionalProperties'],
    ['a missing summary', (r) => { delete r.summary; }, ' required'],
    ['another schemaVersion', (r) => { r.schemaVersion = 2; }, '/schemaVersion const'],
    ['an exit code the CLI never returns from a run', (r) => { r.exitCode = 2; }, '/exitCode enum'],
    ['an unknown failOn', (r) => { r.failOn = 'info'; }, '/failOn enum'],
    ['a startedAt that is not a date-time', (r) => { r.startedAt = 'yesterday'; }, '/startedAt pattern'],
    ['an unknown mesh model', (r) => { r.mesh.model = 'mesh-of-meshes'; }, '/mesh/model enum'],
    ['an unknown field in a cluster', (r) => { r.clusters[0].kubeconfig = '/root/.kube/config'; }, '/clusters/0 additionalProperties'],
    ['a cluster without revisions', (r) => { delete r.clusters[2].revisions; }, '/clusters/2 required'],
    ['an unknown field in a gateway', (r) => { r.clusters[0].eastWestGateways[0].port = 15443; }, '/clusters/0/eastWestGateways/0 additionalProperties'],
    ['an unknown outcome', (r) => { r.results[0].outcome = 'flaky'; }, '/results/0/outcome enum'],
    ['an unknown category', (r) => { r.results[0].category = 'security'; }, '/results/0/category enum'],
    ['a negative duration', (r) => { r.results[0].durationMs = -1; }, '/results/0/durationMs minimum'],
    ['a finding without messageId', (r) => { delete r.results[1].findings[0].messageId; }, '/results/1/findings/0 required'],
    ['a finding with an unknown severity', (r) => { r.results[1].findings[0].severity = 'critical'; }, '/results/1/findings/0/severity enum'],
    ['a resource without name', (r) => { delete r.results[1].findings[0].resource.name; }, '/results/1/findings/0/resource required'],
    ['a fractional count', (r) => { r.summary.pass = 1.5; }, '/summary/pass type'],
    ['an unknown summary field', (r) => { r.summary.total = 10; }, '/summary additionalProperties'],
  ];

  it.each(broken)('rejects %s', (_name, breakIt, expectedError) => {
    const document = JSON.parse(renderJson(realisticReport()));
    breakIt(document);
    expect(errorsOf(document)).toContain(expectedError);
  });

  it('lists the same categories as the engine', () => {
    expect(schema.$defs.category.enum).toEqual([...CATEGORIES]);
  });
});
