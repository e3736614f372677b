import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import renderMatrix from '../../../src/reporters/details/matrix.ts';
import type { CheckResult } from '../../../src/engine/types.ts';

const result = { checkId: 'connectivity/cross-cluster', category: 'connectivity', cluster: '*', outcome: 'fail', durationMs: 1, findings: [] } as CheckResult;
const chalk = new Chalk({ level: 0 });

describe('matrix renderer', () => {
  it('renders source x serving cells with ok/err counts, 0 for an expected idle cluster', () => {
    const lines = renderMatrix(
      [
        {
          target: 'helloworld.sample:5000/',
          serving: ['cluster1', 'cluster2', 'cluster3'],
          expected: ['cluster1', 'cluster2', 'cluster3'],
          rows: [
            { source: 'cluster1', cells: { cluster1: { success: 5, errors: 0 }, cluster2: { success: 0, errors: 5 } } },
            { source: 'cluster2', cells: { cluster1: { success: 3, errors: 2 }, cluster2: { success: 5, errors: 0 } } },
          ],
        },
      ],
      { chalk, result },
    );
    const text = lines.join('\n');
    expect(lines[0]).toBe('helloworld.sample:5000/:');
    expect(text).toMatch(/cluster1\s*│\s*5 ok\s*│\s*5 err\s*│\s*0/);
    expect(text).toMatch(/cluster2\s*│\s*3 ok 2 err\s*│\s*5 ok/);
  });

  it('names the source clusters without a row under the table', () => {
    const lines = renderMatrix(
      [
        {
          target: 'helloworld.sample:5000/',
          serving: ['cluster1', 'cluster2'],
          rows: [{ source: 'cluster1', cells: { cluster1: { success: 5, errors: 0 }, cluster2: { success: 5, errors: 0 } } }],
          unmeasured: [{ source: 'cluster2', reason: 'exec: no result within 3.5s', probeFailed: true }],
        },
      ],
      { chalk, result },
    );
    expect(lines.at(-1)).toBe('no row from cluster2: probe failed (exec: no result within 3.5s)');
  });

  it('renders nothing for data of another shape', () => {
    expect(renderMatrix({ nope: true }, { chalk, result })).toEqual([]);
    expect(renderMatrix([], { chalk, result })).toEqual([]);
  });
});
