import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import renderVersions from '../../../src/reporters/details/versions.ts';
import type { CheckResult } from '../../../src/engine/types.ts';

const chalk = new Chalk({ level: 0 });
const result = { checkId: 'control-plane/version-skew', category: 'control-plane', cluster: '*', outcome: 'warn', durationMs: 1, findings: [] } as CheckResult;

describe('versions detail renderer', () => {
  it('lists istiod per cluster and revision, then proxies with their control plane', () => {
    const lines = renderVersions(
      {
        controlPlanes: [
          { cluster: 'cluster1', revision: 'default', version: '1.29.1' },
          { cluster: 'cluster2', revision: 'default', version: '1.27.3' },
        ],
        proxies: [
          { cluster: 'cluster1', revision: 'default', version: '1.29.1', count: 4, controlPlane: 'cluster1/default', controlPlaneVersion: '1.29.1' },
          { cluster: 'cluster2', revision: 'canary', version: '1.28.0', count: 1 },
        ],
      },
      { chalk, result },
    );
    expect(lines).toEqual([
      'Istio versions seen',
      '  istiod   cluster1 revision default  1.29.1',
      '  istiod   cluster2 revision default  1.27.3',
      '  proxies  cluster1 revision default  1.29.1 x4  (control plane cluster1/default 1.29.1)',
      '  proxies  cluster2 revision canary  1.28.0 x1  (control plane unknown)',
    ]);
  });

  it('renders nothing for an unknown or empty value', () => {
    expect(renderVersions(undefined, { chalk, result })).toEqual([]);
    expect(renderVersions({ controlPlanes: [], proxies: [] }, { chalk, result })).toEqual([]);
    expect(renderVersions({ nope: true }, { chalk, result })).toEqual([]);
  });
});
