import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import renderTraffic from '../../../src/reporters/details/traffic.ts';
import type { CheckResult } from '../../../src/engine/types.ts';

const result = { checkId: 'observability/cross-cluster-traffic', category: 'observability', cluster: '*', outcome: 'fail', durationMs: 1, findings: [] } as CheckResult;
const plain = new Chalk({ level: 0 });
/** The check's thresholds travel with its data (TrafficDetail). */
const thresholds = { errorRateThreshold: 0.05, p95ThresholdMs: 1000 };

describe('traffic renderer', () => {
  it('renders source x destination cells with rate, 5xx share and p95; - where no pair was measured', () => {
    const lines = renderTraffic(
      {
        window: '5m',
        ...thresholds,
        pairs: [
          { source: 'cluster1', destination: 'cluster2', requestsPerSecond: 2.5, errorRate: 0, p95Ms: 12.345 },
          { source: 'cluster1', destination: 'cluster3', requestsPerSecond: 40.4, errorRate: 1, p95Ms: 0.975 },
          { source: 'cluster2', destination: 'cluster1', requestsPerSecond: 0.125, errorRate: 0.0625 },
        ],
      },
      { chalk: plain, result },
    );
    const text = lines.join('\n');
    expect(lines[0]).toBe('cross-cluster traffic over 5m (req/s, 5xx, p95):');
    expect(text).toMatch(/from \\ to\s*│\s*cluster1\s*│\s*cluster2\s*│\s*cluster3\s*│/);
    expect(text).toMatch(/cluster1\s*│\s*-\s*│\s*2\.5\/s 0\.0% p95 12 ms\s*│\s*40\/s 100\.0% p95 0\.98 ms\s*│/);
    expect(text).toMatch(/cluster2\s*│\s*0\.13\/s 6\.3% p95 -\s*│\s*-\s*│\s*-\s*│/);
  });

  it('reads a p95 above the highest bucket (Infinity, or null after JSON) as such', () => {
    for (const p95Ms of [Number.POSITIVE_INFINITY, null]) {
      const lines = renderTraffic({ window: '5m', ...thresholds, pairs: [{ source: 'a', destination: 'b', requestsPerSecond: 1, errorRate: 0, p95Ms }] }, { chalk: plain, result });
      expect(lines.join('\n')).toContain('1/s 0.0% p95 > max bucket');
    }
  });

  it('colours the error share above 5% red and a p95 above 1 s yellow', () => {
    const chalk = new Chalk({ level: 1 });
    const lines = renderTraffic(
      {
        window: '5m',
        ...thresholds,
        pairs: [
          { source: 'a', destination: 'b', requestsPerSecond: 1, errorRate: 0.5, p95Ms: 2000 },
          { source: 'b', destination: 'a', requestsPerSecond: 1, errorRate: 0.01, p95Ms: 20 },
        ],
      },
      { chalk, result },
    );
    const text = lines.join('\n');
    expect(text).toContain(chalk.red('50.0%'));
    expect(text).toContain(chalk.yellow('p95 2000 ms'));
    expect(text).not.toContain(chalk.red('1.0%'));
    expect(text).not.toContain(chalk.yellow('p95 20 ms'));
  });

  it('colours by the thresholds the data carries, not by constants of its own', () => {
    const chalk = new Chalk({ level: 1 });
    const pairs = [{ source: 'a', destination: 'b', requestsPerSecond: 1, errorRate: 0.01, p95Ms: 20 }];
    const text = renderTraffic({ window: '5m', errorRateThreshold: 0.001, p95ThresholdMs: 10, pairs }, { chalk, result }).join('\n');
    expect(text).toContain(chalk.red('1.0%'));
    expect(text).toContain(chalk.yellow('p95 20 ms'));
    expect(renderTraffic({ window: '5m', pairs }, { chalk, result })).toEqual([]);
  });

  it('renders nothing without pairs or for data of another shape', () => {
    expect(renderTraffic({ window: '5m', ...thresholds, pairs: [] }, { chalk: plain, result })).toEqual([]);
    expect(renderTraffic({ pairs: [{ source: 'a' }] }, { chalk: plain, result })).toEqual([]);
    expect(renderTraffic([], { chalk: plain, result })).toEqual([]);
    expect(renderTraffic(null, { chalk: plain, result })).toEqual([]);
  });
});
