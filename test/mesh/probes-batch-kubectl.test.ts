// A probe batch through real kubectl and the lab's API server: the script of a full HTTP round
// (4 targets x 10 curls) plus DNS lookups travels in the exec request, and each request's result
// comes back as its own `kubectl exec` gives it.
import { describe, expect, it } from 'vitest';
import { batchScript, batchToken, parseBatch } from '../../src/mesh/probes/batch.ts';
import { curlCommand } from '../../src/mesh/probes/curl.ts';
import { hasKubectl, kubectlRequired, labForKubectl } from '../lab/kubectl-against-lab.ts';

const { kubectl } = labForKubectl({ scenario: 'multi-primary' });

describe.skipIf(!hasKubectl && !kubectlRequired)('probe batch through real kubectl', () => {
  it('a round of 40 curls and 2 lookups in one exec gives each request its own exec result', async () => {
    const pod = (await kubectl(['get', 'pods', '-n', 'sample', '-l', 'app=curl', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    const hosts = ['helloworld.sample.svc.cluster.local:5000/hello', 'nope.sample.svc.cluster.local:5000/', 'helloworld.sample.svc.cluster.local:5000/', 'helloworld.sample.svc.cluster.local:6000/'];
    const curls = Array.from({ length: 40 }, (_, i) => curlCommand(`http://${hosts[i % 4]}`, 3000));
    const lookups = [
      ['getent', 'hosts', 'helloworld.sample.svc.cluster.local'],
      ['getent', 'hosts', 'nope.sample.svc.cluster.local'],
    ];
    const token = batchToken();
    const r = await kubectl(['exec', '-n', 'sample', pod, '-c', 'curl', '--', 'sh', '-c', batchScript([...curls, ...lookups], token)]);
    expect(r.code, r.stderr).toBe(0);
    const results = parseBatch({ exitCode: r.code, stdout: r.stdout, stderr: r.stderr }, token, 42);
    const codes = results.map((x) => x.exitCode);
    // Per host what its own exec exits with: 0, 6 (does not resolve), 0, and whatever the lab says for a port the Service lacks.
    const single = await Promise.all([...hosts.map((h) => curlCommand(`http://${h}`, 3000)), ...lookups].map((argv) => kubectl(['exec', '-n', 'sample', pod, '-c', 'curl', '--', ...argv])));
    expect(codes.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => single[i % 4].code));
    expect(codes.slice(0, 2)).toEqual([0, 6]);
    expect(results.slice(40)).toEqual([
      { exitCode: 0, stdout: single[4].stdout, stderr: '' },
      { exitCode: 2, stdout: '', stderr: '' },
    ]);
    // kubectl adds its own last line for a non-zero exit.
    expect(results[1].stderr).toBe(single[1].stderr.replace(/command terminated with exit code \d+\n$/, ''));
    expect(results[0].stdout).toMatch(/__meshdoctor__ 200 /);
  });
});
