// Unit tests of the connectivity checks over a fixture plus sample apps, with a scripted exec: each
// case decides what curl, getent and Envoy's /clusters answer, and the checks' messageIds follow.
import { beforeEach, describe, expect, it } from 'vitest';
import { AccessError, type ClusterReader, type ExecResult, type KubeObject, type PodRef } from '../../../src/cluster/types.ts';
import crossCluster from '../../../src/checks/connectivity/cross-cluster.ts';
import dns from '../../../src/checks/connectivity/dns.ts';
import gatewayReachability from '../../../src/checks/connectivity/gateway-reachability.ts';
import http from '../../../src/checks/connectivity/http.ts';
import { runShell } from '../../../src/lab/sim/shell.ts';
import { findEastWestGateways, gatewayAddresses } from '../../../src/mesh/istio-objects.ts';
import { fixtureObjects, memoryReader, runCheck, runErrors, runFor, type ClusterObjects } from '../helpers.ts';

const CLUSTERS = ['cluster1', 'cluster2'];
const HOST = 'helloworld.sample.svc.cluster.local';

/** What one scripted request returns, by source and serving cluster. */
type CurlAnswer = { status: number; body?: string } | { exit: number; stderr: string };

interface Script {
  tools: Record<string, string[]>;
  /** serving cluster chosen per request from a source (round robin over these). */
  serving: Record<string, string[]>;
  answer(source: string, serving: string): CurlAnswer;
  dnsResolves(source: string, name: string): boolean;
  tcpOk(source: string, address: string): boolean;
}

let script: Script;
const podIps: Record<string, string> = { cluster1: '10.10.1.5', cluster2: '10.20.1.5' };
const gatewayIps: Record<string, string> = {};

function pod(name: string, app: string, ip: string, image: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'sample', labels: { app }, annotations: { 'sidecar.istio.io/status': '{}' } },
    spec: { containers: [{ name: app, image }], initContainers: [{ name: 'istio-proxy', restartPolicy: 'Always' }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function sampleObjects(objects: ClusterObjects, cluster: string, index: number): void {
  objects.pods = [...(objects.pods ?? []), pod(`curl-${cluster}`, 'curl', `10.${index}0.1.9`, 'curlimages/curl'), pod(`helloworld-${cluster}`, 'helloworld', podIps[cluster], 'helloworld')];
  const svc = (name: string, port: number): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'sample' }, spec: { selector: { app: name }, ports: [{ name: 'http', port }], clusterIP: `10.9${index}.0.${port % 200}` } });
  objects.services = [...(objects.services ?? []), svc('helloworld', 5000), svc('curl', 80)];
  objects.endpointslices = [
    ...(objects.endpointslices ?? []),
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'helloworld-x', namespace: 'sample', labels: { 'kubernetes.io/service-name': 'helloworld' } }, endpoints: [{ addresses: [podIps[cluster]], conditions: { ready: true } }] },
  ];
  const gw = findEastWestGateways(objects.services).find((g) => g.recognisedByIstiod);
  gatewayIps[cluster] = gw ? gatewayAddresses(gw.service, objects.nodes)[0] : '';
}

/** Readers that are "live": exec follows the script, and each sidecar keeps its own counters. */
async function readers(): Promise<ClusterReader[]> {
  const objects = await fixtureObjects('multi-primary-healthy');
  [...objects.entries()].forEach(([cluster, objs], i) => sampleObjects(objs, cluster, i + 1));
  const counters = new Map<string, Map<string, { success: number; error: number; connectFail: number }>>();
  const turn = new Map<string, number>();
  return CLUSTERS.map((cluster) => {
    const base = memoryReader(cluster, objects.get(cluster)!);
    const hostOf = (serving: string) => (serving === cluster ? `${podIps[serving]}:5000` : `${gatewayIps[serving]}:15443`);
    const exec = async (_ref: PodRef, container: string, argv: string[]): Promise<ExecResult> => {
      const stats = counters.get(cluster) ?? new Map();
      counters.set(cluster, stats);
      if (container === 'istio-proxy') {
        const lines = script.serving[cluster].filter((s, i, all) => all.indexOf(s) === i).flatMap((serving) => {
          const c = stats.get(hostOf(serving)) ?? { success: 0, error: 0, connectFail: 0 };
          const name = `outbound|5000||${HOST}::${hostOf(serving)}`;
          return [`${name}::rq_success::${c.success}`, `${name}::rq_error::${c.error}`, `${name}::rq_total::${c.success + c.error}`, `${name}::cx_connect_fail::${c.connectFail}`];
        });
        return { exitCode: 0, stdout: `outbound|5000||${HOST}::default_priority::max_connections::1024\n${lines.join('\n')}\n`, stderr: '' };
      }
      // A probe batch runs through the lab's shell, its requests answered by this script as single execs would be.
      if (argv[0] === 'sh' && !argv[2].startsWith('command -v')) {
        return runShell(argv[2], { has: (t) => script.tools[cluster].includes(t), run: (command) => exec(_ref, container, command) });
      }
      if (argv[0] === 'sh') return { exitCode: 0, stdout: script.tools[cluster].map((t) => `/usr/bin/${t}\n`).join(''), stderr: '' };
      if (argv[0] === 'getent') return script.dnsResolves(cluster, argv[2]) ? { exitCode: 0, stdout: `10.96.0.1 ${argv[2]}\n`, stderr: '' } : { exitCode: 2, stdout: '', stderr: '' };
      const url = argv[argv.length - 1];
      if (url.startsWith('telnet://')) {
        const address = url.slice('telnet://'.length).split(':')[0];
        return script.tcpOk(cluster, address) ? { exitCode: 0, stdout: '', stderr: `* Connected to ${address}\n` } : { exitCode: 28, stdout: '', stderr: 'curl: (28) Connection timed out after 3001 milliseconds\n' };
      }
      const order = script.serving[cluster];
      const n = turn.get(cluster) ?? 0;
      turn.set(cluster, n + 1);
      const serving = order[n % order.length];
      const answer = script.answer(cluster, serving);
      if ('exit' in answer) return { exitCode: answer.exit, stdout: '\n__meshdoctor__ 000 0.001\n', stderr: answer.stderr };
      const c = stats.get(hostOf(serving)) ?? { success: 0, error: 0, connectFail: 0 };
      // Envoy counts a failed connect (refused, TLS handshake) in cx_connect_fail as well.
      if (answer.status >= 500 && /connection failure/.test(answer.body ?? '')) c.connectFail++;
      if (answer.status >= 500) c.error++;
      else c.success++;
      stats.set(hostOf(serving), c);
      return { exitCode: 0, stdout: `${answer.body ?? ''}\n__meshdoctor__ ${answer.status} 0.0${answer.status % 10}4\n`, stderr: '' };
    };
    return { ...base, live: true, via: 'context' as const, exec: (r: PodRef, c: string, a: string[]) => exec(r, c, a) };
  });
}
beforeEach(() => {
  script = {
    tools: { cluster1: ['curl', 'getent'], cluster2: ['curl', 'getent'] },
    serving: { cluster1: ['cluster1', 'cluster2'], cluster2: ['cluster2', 'cluster1'] },
    answer: () => ({ status: 200, body: 'Hello' }),
    dnsResolves: () => true,
    tcpOk: () => true,
  };
});

const messageIds = (runs: Awaited<ReturnType<typeof runCheck>>['runs']) =>
  runs.flatMap((r) => r.findings.filter((f) => f.severity !== 'info' && f.messageId !== 'summary' && f.messageId !== 'sourceNotMeasured' && f.messageId !== 'notObserved').map((f) => `${f.cluster}:${f.messageId}`)).sort();

describe('connectivity checks with scripted probes', () => {
  it('healthy: every check passes and the matrix shows both clusters serving', async () => {
    const rs = await readers();
    expect(messageIds((await runCheck(http, rs)).runs)).toEqual([]);
    expect(messageIds((await runCheck(dns, rs)).runs)).toEqual([]);
    const cross = await runCheck(crossCluster, rs);
    expect(messageIds(cross.runs)).toEqual([]);
    const matrix = runFor(cross.runs, '*').data.matrix as { target: string; rows: { source: string; cells: Record<string, { success: number }> }[] }[];
    expect(matrix.map((m) => m.target)).toEqual(['helloworld.sample:5000/']);
    for (const row of matrix[0].rows) expect(Object.keys(row.cells).sort()).toEqual(CLUSTERS);
    const summaries = (await runCheck(http, rs)).runs.flatMap((r) => r.findings.map((f) => `${f.cluster}:${f.messageId}`));
    expect(summaries).toEqual(['cluster1:summary', 'cluster2:summary']);
  });

  it('a pod without curl is skipped with the reason (dns still runs with getent)', async () => {
    script.tools.cluster1 = ['getent'];
    const rs = await readers();
    const run = runFor((await runCheck(http, rs)).runs, 'cluster1');
    expect(run.skipped).toMatch(/has no curl/);
    expect(runFor((await runCheck(dns, rs)).runs, 'cluster1').skipped).toBeUndefined();
    const cross = await runCheck(crossCluster, rs);
    expect(runFor(cross.runs, '*').findings.map((f) => `${f.cluster}:${f.messageId}`)).toContain('cluster1:sourceNotMeasured');
  });

  it('a pod without any tool is skipped with the reason (noProbeTools), and cross-cluster too when no cluster has one', async () => {
    script.tools.cluster2 = [];
    const run = runFor((await runCheck(dns, await readers())).runs, 'cluster2');
    expect([run.outcome, run.skippedId]).toEqual(['skip', 'noProbeTools']);
    expect(run.skipped).toMatch(/no probe tools/);
    expect(runFor((await runCheck(dns, await readers())).runs, 'cluster1').skippedId).toBeUndefined();
    script.tools.cluster1 = [];
    const cross = runFor((await runCheck(crossCluster, await readers())).runs, '*');
    expect([cross.outcome, cross.skippedId]).toEqual(['skip', 'noProbeTools']);
  });

  it.each([
    [{ status: 503, body: 'no healthy upstream' }, 'upstreamError'],
    [{ status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: CERTIFICATE_VERIFY_FAILED' }, 'tlsFailure'],
    [{ status: 500, body: 'oops' }, 'serverError'],
  ])('http attributes a failing peer: %o -> %s on the serving cluster', async (answer, messageId) => {
    script.answer = (_source, serving) => (serving === 'cluster2' ? answer : { status: 200 });
    const rs = await readers();
    expect(messageIds((await runCheck(http, rs)).runs)).toEqual([`cluster2:${messageId}`, `cluster2:${messageId}`]);
    expect(messageIds((await runCheck(crossCluster, rs)).runs)).toEqual(['cluster2:allRequestsFailed', 'cluster2:allRequestsFailed']);
  });

  it.each([
    [6, 'dnsFailure'],
    [7, 'connectFailure'],
    [28, 'timeout'],
    [56, 'connectionReset'],
    [3, 'requestFailed'],
  ])('curl exit %i is %s on the source cluster', async (exit, messageId) => {
    script.answer = (source) => (source === 'cluster1' ? { exit, stderr: `curl: (${exit}) failed\n` } : { status: 200 });
    expect(messageIds((await runCheck(http, await readers())).runs)).toEqual([`cluster1:${messageId}`]);
  });

  it('dns: a local target that does not resolve is notResolved', async () => {
    script.dnsResolves = (source) => source !== 'cluster2';
    expect(messageIds((await runCheck(dns, await readers())).runs)).toEqual(['cluster2:notResolved']);
  });

  it('cross-cluster: partial failures, an absent cluster and an idle cluster', async () => {
    let n = 0;
    script.answer = (source, serving) => (source === 'cluster1' && serving === 'cluster2' && n++ % 2 === 0 ? { status: 503, body: 'no healthy upstream' } : { status: 200 });
    script.serving = { cluster1: ['cluster1', 'cluster2'], cluster2: ['cluster2'] };
    let ids = messageIds((await runCheck(crossCluster, await readers())).runs);
    expect(ids).toEqual(['cluster1:noEndpointsForCluster', 'cluster2:someRequestsFailed']);

    script.answer = () => ({ status: 200 });
    script.serving = { cluster1: ['cluster1'], cluster2: ['cluster2', 'cluster1'] };
    const rs = await readers();
    // cluster1's proxy lists cluster2's gateway but never picks it.
    const original = rs[0].exec;
    rs[0] = {
      ...rs[0],
      exec: async (p, c, a) => {
        const r = await original(p, c, a);
        if (c !== 'istio-proxy') return r;
        const host = `outbound|5000||${HOST}::${gatewayIps.cluster2}:15443`;
        return { ...r, stdout: `${r.stdout}${host}::rq_success::0\n${host}::rq_total::0\n` };
      },
    };
    ids = messageIds((await runCheck(crossCluster, rs)).runs);
    expect(ids).toEqual(['cluster2:neverServed']);
  });

  it('gateway-reachability: an unreachable peer gateway fails on the gateway\'s cluster', async () => {
    expect(messageIds((await runCheck(gatewayReachability, await readers())).runs)).toEqual([]);
    script.tcpOk = (_source, address) => address !== gatewayIps.cluster2;
    expect(messageIds((await runCheck(gatewayReachability, await readers())).runs)).toEqual(['cluster2:gatewayUnreachable']);
  });

  it('http: one finding per serving cluster and failure kind, on the serving cluster', async () => {
    const TLS = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: CERTIFICATE_VERIFY_FAILED';
    const TERMINATION = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';
    // Equal counts of both kinds: only the counter each lands in tells which cluster served which.
    script.answer = (source, serving) => (source !== 'cluster1' ? { status: 200 } : { status: 503, body: serving === 'cluster1' ? TERMINATION : TLS });
    const rs = await readers();
    const findings = (await runCheck(http, rs)).runs.flatMap((r) => r.findings).filter((f) => f.messageId !== 'summary');
    expect(findings.map((f) => [f.cluster, f.messageId, f.severity, f.data?.serving, f.data?.failed]).sort()).toEqual([
      ['cluster1', 'upstreamError', 'error', 'cluster1', 5],
      ['cluster2', 'tlsFailure', 'error', 'cluster2', 5],
    ]);
    // The matrix cells name the cause each cluster's requests met, not the first failure of the round.
    const cross = runFor((await runCheck(crossCluster, rs)).runs, '*').findings.filter((f) => f.messageId === 'allRequestsFailed');
    expect(cross.map((f) => [f.cluster, String(f.data?.cause).includes('TLS error')]).sort()).toEqual([
      ['cluster1', false],
      ['cluster2', true],
    ]);
  });

  it('cross-cluster: a source whose exec hangs keeps the other rows and is named, not fatal', async () => {
    const rs = await readers();
    rs[1] = { ...rs[1], exec: () => Promise.reject(new AccessError('timeout', 'cluster2', 'exec in sample/curl-cluster2: no result within 3.5s')) };
    const run = runFor((await runCheck(crossCluster, rs)).runs, '*');
    expect(run.skipped).toBeUndefined();
    const broken = run.findings.filter((f) => f.messageId === 'sourceProbeFailed');
    expect(broken.map((f) => [f.cluster, f.severity])).toEqual([['cluster2', 'info']]);
    expect(run.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const matrix = run.data.matrix as { rows: { source: string; cells: Record<string, { success: number }> }[]; unmeasured: { source: string; probeFailed: boolean }[] }[];
    expect(matrix[0].rows.map((r) => r.source)).toEqual(['cluster1']);
    expect(Object.keys(matrix[0].rows[0].cells).sort()).toEqual(CLUSTERS);
    expect(matrix[0].unmeasured).toEqual([{ source: 'cluster2', reason: expect.stringMatching(/no result within/), probeFailed: true }]);
  });

  it('cross-cluster: when the probe broke in every cluster the check errors', async () => {
    const rs = (await readers()).map((r) => ({ ...r, exec: () => Promise.reject(new AccessError('timeout', r.name, 'exec: no result within 3.5s')) }));
    expect(runErrors((await runCheck(crossCluster, rs)).runs)).toEqual([expect.stringMatching(/^\*: .*probes broke in every cluster.*no result within/)]);
  });
});
