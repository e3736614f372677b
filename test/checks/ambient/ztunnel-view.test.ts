import { describe, expect, it } from 'vitest';
import check from '../../../src/checks/ambient/ztunnel-view.ts';
import { AccessError } from '../../../src/cluster/types.ts';
import { secretText } from '../../../src/mesh/certificates.ts';
import { findingKeys, fixtureObjects, objectNamed, openFixture, runCheck, runErrors, runFor } from '../helpers.ts';
import { runChecksOnLab } from '../../helpers/lab-run.ts';
import { ambientObjects, ambientReaders, derivedDumps } from './ambient-mesh.ts';

describe('ambient/ztunnel-view', () => {
  it('passes on the healthy ambient mesh', async () => {
    const { runs } = await runCheck(check, await ambientReaders(await ambientObjects()));
    expect(findingKeys(runs)).toEqual([]);
    expect(runs.map((r) => r.outcome)).toEqual(['pass', 'pass']);
  });

  it('fixture ambient-multi-network: cluster1 from its ztunnel, cluster2 (port-forward refused at capture) from istiod ambientz', async () => {
    const { runs } = await runCheck(check, (await openFixture('ambient-multi-network')).clusters);
    expect(runs.map((r) => r.outcome)).toEqual(['pass', 'pass']);
    expect(findingKeys(runs)).toEqual([]);
  });

  it('skips a sidecar-only mesh, and a cluster whose ztunnel cannot be read', async () => {
    const { runs } = await runCheck(check, (await openFixture('multi-primary-healthy')).clusters);
    expect(runs.map((r) => r.outcome)).toEqual(['skip', 'skip']);
    const objects = await ambientObjects();
    const noDumps = await runCheck(check, await ambientReaders(objects, new Map()));
    expect(noDumps.runs.map((r) => r.outcome)).toEqual(['skip', 'skip']);
    expect(noDumps.runs[0].skipped).toMatch(/ambientz/);
  });

  it('noRemoteNetworkWorkload when the peer network has no usable gateway (ambient-ewgw-missing, ambient-ewgw-no-address)', async () => {
    const objects = await ambientObjects();
    objectNamed(objects, 'cluster2', 'k8sgateways', 'istio-eastwestgateway').status.addresses = [];
    const { runs } = await runCheck(check, await ambientReaders(objects));
    // cluster1's ztunnel has no way to cluster2's network: the finding is on cluster2, cluster1 its peer.
    expect(findingKeys(runs)).toEqual(['cluster2:noRemoteNetworkWorkload']);
    expect(runFor(runs, 'cluster1').findings[0]).toMatchObject({ cluster: 'cluster2', peer: 'cluster1', resource: { kind: 'Service', namespace: 'sample', name: 'helloworld' } });
  });

  it('one noRemoteNetworkWorkload per Service and peer, however many sampled ztunnels lack the workload (lab, ambient-ewgw-missing)', async () => {
    const run = await runChecksOnLab({ scenario: 'ambient-multi-network', faults: ['ambient-ewgw-missing:cluster2'] }, { only: ['ambient/ztunnel-view'] });
    const findings = run.results.flatMap((r) => r.findings).filter((f) => f.messageId === 'noRemoteNetworkWorkload');
    expect(findings.length).toBeGreaterThan(0);
    const keys = findings.map((f) => `${f.cluster} ${f.peer} ${f.resource?.namespace}/${f.resource?.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The lab's cluster1 runs a ztunnel per node, and every one of them lacks the way to network2.
    for (const f of findings) expect(f).toMatchObject({ cluster: 'cluster2', peer: 'cluster1' });
  });

  it('unexplainedGatewayAddress and rootNotTrusted', async () => {
    const objects = await ambientObjects();
    const dumps = (await derivedDumps(objects)) as Map<string, { workloads: { networkGateway?: { destination: string } }[]; certificates: { rootCerts: { pem: string }[] }[] }>;
    const split = dumps.get('cluster1')!.workloads.find((w) => w.networkGateway)!;
    split.networkGateway!.destination = 'network2/198.51.100.9';
    // A root of another CA (root-mismatch's cluster2 chains to a different root with the same subject).
    const other = secretText(objectNamed(await fixtureObjects('root-mismatch'), 'cluster2', 'secrets', 'cacerts'), 'root-cert.pem')!;
    dumps.get('cluster2')!.certificates[0].rootCerts = [{ pem: other }];
    const { runs } = await runCheck(check, await ambientReaders(objects, dumps));
    expect(findingKeys(runs)).toEqual(['cluster1:unexplainedGatewayAddress', 'cluster2:rootNotTrusted']);
  });

  it('an address on a network whose Gateways could not be read is not called unexplained: the run says what it missed', async () => {
    const objects = await ambientObjects();
    const dumps = (await derivedDumps(objects)) as Map<string, { workloads: { networkGateway?: { destination: string } }[] }>;
    dumps.get('cluster1')!.workloads.find((w) => w.networkGateway)!.networkGateway!.destination = 'network2/198.51.100.9';
    const readers = (await ambientReaders(objects, dumps)).map((reader) =>
      reader.name !== 'cluster2'
        ? reader
        : new Proxy(reader, {
            get(target, prop) {
              if (prop === 'listOptional') {
                return async (kind: string, ...rest: unknown[]) => {
                  if (kind === 'k8sgateways') throw new AccessError('bad-response', 'cluster2', 'HTTP 500 listing gateways');
                  return (target.listOptional as (...a: unknown[]) => unknown)(kind, ...rest);
                };
              }
              const value = Reflect.get(target, prop, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          }),
    );
    const { runs } = await runCheck(check, readers);
    expect(findingKeys(runs)).not.toContain('cluster1:unexplainedGatewayAddress');
    expect(runFor(runs, 'cluster1').outcome).not.toBe('pass');
  });

  it('a dump that is not ztunnel\'s is an error with the reason', async () => {
    const objects = await ambientObjects();
    const { runs } = await runCheck(check, await ambientReaders(objects, new Map([['cluster1', '{"configs":[]}'], ['cluster2', 'not json']])));
    expect(runErrors(runs)).toEqual([expect.stringMatching(/^cluster1: .*neither workloads nor services/), expect.stringMatching(/^cluster2: .*not JSON/)]);
  });

  it('reads the older object-keyed dump and the ambientz fallback shape alike', async () => {
    const objects = await ambientObjects();
    const dumps = (await derivedDumps(objects)) as Map<string, { workloads: unknown[] }>;
    const keyed = new Map([...dumps].map(([c, d]) => [c, { ...d, workloads: Object.fromEntries(d.workloads.map((w, i) => [String(i), w])) }]));
    const { runs } = await runCheck(check, await ambientReaders(objects, keyed));
    expect(findingKeys(runs)).toEqual([]);
  });
});
