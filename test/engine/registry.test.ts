import { describe, expect, it } from 'vitest';
import { selectChecks, validateChecks } from '../../src/engine/registry.ts';
import { exitCodeFor, summarize } from '../../src/engine/exit-code.ts';
import { defineCheck } from '../../src/engine/define-check.ts';
import type { Check, CheckResult, ClusterCheck, Severity } from '../../src/engine/types.ts';

const check = (id: string, extra: Partial<ClusterCheck> = {}): Check =>
  defineCheck({
    id,
    category: id.split('/')[0] as Check['category'],
    scope: 'cluster',
    needs: [],
    meta: { description: 'd', docs: 'https://istio.io', messages: { someProblem: { template: 't', hint: 'h', severity: 'error' } } },
    async run() {},
    ...extra,
  });

describe('validateChecks', () => {
  it('accepts well-formed checks', () => {
    expect(() => validateChecks([check('network/a'), check('services/b', { dependsOn: ['network/a'] })])).not.toThrow();
  });
  it.each([
    ['bad id', [check('Network/A')], /id must look like/],
    ['category mismatch', [check('network/a', { category: 'services' })], /must start with its category/],
    ['unknown category', [check('dns/a')], /unknown category/],
    ['duplicate', [check('network/a'), check('network/a')], /defined twice/],
    ['unknown dependency', [check('network/a', { dependsOn: ['network/zz'] })], /unknown check/],
    ['cycle', [check('network/a', { dependsOn: ['network/b'] }), check('network/b', { dependsOn: ['network/a'] })], /dependency cycle/],
    ['messageId case', [check('network/a', { meta: { description: 'd', docs: '', messages: { Bad_Id: { template: 't', hint: 'h', severity: 'error' } } } })], /camelCase/],
  ])('rejects %s', (_name, checks, error) => {
    expect(() => validateChecks(checks)).toThrow(error);
  });
});

describe('selectChecks', () => {
  const all = [check('network/b'), check('network/a'), check('control-plane/x'), check('certificates/y')];
  it('orders by category then id and filters by command, --only and --skip', () => {
    expect(selectChecks(all, {}).map((c) => c.id)).toEqual(['control-plane/x', 'network/a', 'network/b', 'certificates/y']);
    expect(selectChecks(all, { category: 'network' }).map((c) => c.id)).toEqual(['network/a', 'network/b']);
    expect(selectChecks(all, { only: ['network', 'certificates/y'], skip: ['network/b'] }).map((c) => c.id)).toEqual(['network/a', 'certificates/y']);
  });
  it('rejects unknown ids and categories, suggesting the full id', () => {
    expect(() => selectChecks(all, { only: ['a'] })).toThrow(/unknown check or category "a" \(did you mean "network\/a"\?\)/);
    expect(() => selectChecks(all, { skip: ['dns'] })).toThrow(/unknown check or category/);
  });
});

describe('exitCodeFor', () => {
  const result = (outcome: CheckResult['outcome'], severities: Severity[] = []): CheckResult => ({
    checkId: 'network/a', category: 'network', cluster: 'c1', outcome, durationMs: 1,
    findings: severities.map((severity) => ({ checkId: 'network/a', messageId: 'm', severity, cluster: 'c1', message: 'x' })),
  });
  it.each([
    ['all pass', [result('pass')], 'error', 0],
    ['error finding', [result('fail', ['error'])], 'error', 1],
    ['warning below threshold', [result('warn', ['warning'])], 'error', 0],
    ['warning at threshold', [result('warn', ['warning'])], 'warning', 1],
    ['info never fails', [result('pass', ['info'])], 'warning', 0],
    ['probe error only', [result('error'), result('pass')], 'error', 3],
    ['finding beats probe error', [result('error'), result('fail', ['error'])], 'error', 1],
    ['never ignores findings', [result('fail', ['error'])], 'never', 0],
    ['never still reports incomplete runs', [result('error')], 'never', 3],
  ] as const)('%s', (_name, results, failOn, code) => {
    expect(exitCodeFor([...results], failOn)).toBe(code);
  });
  it('summarizes outcomes and finding severities once', () => {
    expect(summarize([result('fail', ['error', 'warning']), result('skip'), result('pass', ['info'])])).toEqual({ pass: 1, fail: 1, warn: 0, skip: 1, error: 0, errors: 1, warnings: 1 });
  });
});
