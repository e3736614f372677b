// A finding names its object once (issue 13): the resource prefix of a finding's line is left out
// when the message names that object already.
import { describe, expect, it } from 'vitest';
import { resourcePrefix } from '../../src/reporters/format.ts';
import { stripAnsi } from '../../src/reporters/sanitize.ts';
import { runCliInProcess } from '../cli/run-cli.ts';

describe('a finding names its object once', () => {
  it('leaves out the prefix when the message names the object, keeps it otherwise', () => {
    const gateway = { kind: 'Gateway', namespace: 'istio-system', name: 'cross-network-gateway' };
    expect(resourcePrefix({ resource: gateway, message: 'Gateway istio-system/cross-network-gateway serves port 15443 with ISTIO_MUTUAL' })).toBeUndefined();
    expect(resourcePrefix({ resource: gateway, message: 'serves port 15443 with ISTIO_MUTUAL' })).toBe('Gateway istio-system/cross-network-gateway');
    // The same name in another namespace is another object.
    expect(resourcePrefix({ resource: gateway, message: 'like default/cross-network-gateway' })).toBe('Gateway istio-system/cross-network-gateway');
    const namespace = { kind: 'Namespace', name: 'sample' };
    expect(resourcePrefix({ resource: namespace, message: 'Namespace sample is not injected in cluster2' })).toBeUndefined();
    expect(resourcePrefix({ resource: namespace, message: 'the sample app is not injected' })).toBe('Namespace sample');
  });

  it('no line of the demo report names one object twice', async () => {
    const { stdout } = await runCliInProcess(['all', '--lab']);
    const twice = stripAnsi(stdout)
      .split('\n')
      .filter((line) => {
        const match = /\b[A-Z][A-Za-z]+ ([a-z0-9.-]+\/[a-z0-9.-]+): (.*)$/.exec(line);
        return match !== null && match[2].includes(match[1]);
      });
    expect(twice).toEqual([]);
  });
});
