// Encodes https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/ (which cluster served: Envoy's per-endpoint counters, `pilot-agent request GET clusters`).
import { defineCheck } from '../../engine/define-check.ts';
import { AccessError, type ClusterReader } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import { hostDeltas, splitHost } from '../../mesh/envoy-clusters.ts';
import { attributeByResponse, attributeFailures, explainServingFailure, podClusters } from '../../mesh/probes/attribution.ts';
import { probeRound, type ProbeRound } from '../../mesh/probes/http-round.ts';
import { probeSettings, type ProbeSettings, type ProbeTarget } from '../../mesh/probes/options.ts';
import { eastWestGateways, endpointOwners, peerRead, readyEndpointsByCluster } from '../../mesh/probes/peers.ts';
import { missingTool, selectSource } from '../../mesh/probes/source.ts';
import { NO_TARGETS_REASON, probeTargets, targetsFor } from '../../mesh/probes/targets.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';
import { untilAborted } from '../../util/abort.ts';
import { BY_AMBIENT_CLIENT_HERE, BY_AMBIENT_GATEWAY_HERE, BY_BROKEN_TRUST, BY_CALLERS_VIEW, BY_EASTWEST_PATH_HERE, BY_EXTERNAL_CONTROL_PLANE, BY_GATEWAY_HERE, BY_GATEWAY_UNPUBLISHED_HERE, BY_NETWORK_UNKNOWN, BY_SERVICE_PORTS, BY_UNINJECTED_ENDPOINTS } from '../../engine/explanations.ts';

const ID = 'connectivity/cross-cluster';
/** Below this chance that a cluster got no request by luck, "never served" is an error. */
const CHANCE_THRESHOLD = 0.01;
/** Column of hosts no cluster explains. */
const UNKNOWN = 'unknown';

/** One cell of the matrix: requests from a source cluster served by a cluster. */
export interface MatrixCell {
  success: number;
  errors: number;
  /** Envoy hosts behind the cell. */
  hosts: string[];
}

/** The matrix of one target: source cluster x serving cluster (what the `matrix` renderer shows). */
export interface TargetMatrix {
  target: string;
  /** Serving clusters (columns), in cluster order; `unknown` last. */
  serving: string[];
  /** Clusters whose API has ready endpoints for the target (when it is a Service). */
  expected: string[];
  rows: { source: string; pod: string; cells: Record<string, MatrixCell> }[];
  /** Source clusters without a row, and why (a broken probe, or no usable source pod). */
  unmeasured?: UnmeasuredSource[];
}

/** A source cluster the matrix has no row for. */
export interface UnmeasuredSource {
  source: string;
  reason: string;
  /** The probe broke there (exec failed or hung, unreadable output), as opposed to nothing to probe from. */
  probeFailed: boolean;
}

/** What one source cluster gave: its round, or why there is none. */
interface SourceOutcome {
  reader: ClusterReader;
  round?: ProbeRound;
  reason?: string;
  /** The selection's stable id of the reason, where it has one (NO_PROBE_TOOLS). */
  reasonId?: string;
  probeFailed?: boolean;
}

const HINT_VERIFY =
  'Watch the source pod named above: kubectl exec -n <pod namespace> <pod name> -c istio-proxy -- pilot-agent request GET clusters ' +
  '| grep "outbound|{{port}}||{{fqdn}}" (rq_success/rq_error per host, before and after some requests).';

const check = defineCheck({
  id: ID,
  category: 'connectivity',
  scope: 'mesh',
  needs: ['exec', 'pods', 'namespaces', 'services', 'endpointslices', 'nodes', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'Requests from every cluster are served by every cluster that has endpoints for the target',
    details:
      'From a source pod per cluster the check reads the sidecar\'s Envoy counters (pilot-agent request GET clusters in ' +
      'istio-proxy) before and after a round of --probe-count curl requests per target (the same round connectivity/http ' +
      'judges: one round per source pod, shared), and maps each upstream host to the cluster behind it: a pod IP of a ' +
      'cluster, or a peer network\'s east-west gateway address. The result is a matrix source cluster x serving cluster with ' +
      'success and error counts (a table in the human report, `matrix` in JSON). A cluster whose requests all failed, or ' +
      'that has ready endpoints for the target but never served (Envoy has no endpoint for it, or too many requests went ' +
      'elsewhere for chance to explain), is an error. A source cluster where the probe itself breaks (an exec that fails or ' +
      'hangs) gets no row: it is named in an info finding and in `unmeasured` of the matrix, and the other rows are judged ' +
      'as usual; only when the probe broke everywhere is the outcome an error.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      allRequestsFailed: {
        template: 'All {{errors}} requests from {{source}} to {{target}} served by {{serving}} failed (hosts {{hosts}}): {{cause}}',
        severity: 'error',
        explainedBy: [...BY_GATEWAY_HERE, ...BY_EASTWEST_PATH_HERE, ...BY_NETWORK_UNKNOWN, ...BY_UNINJECTED_ENDPOINTS, ...BY_BROKEN_TRUST, ...BY_EXTERNAL_CONTROL_PLANE, ...BY_AMBIENT_CLIENT_HERE],
        hint: `Fix what the cause names: CERTIFICATE_VERIFY_FAILED, see certificates/shared-root; a timeout, connectivity/gateway-reachability; "connection termination", network/cross-network-gateway or services/endpoints. ${HINT_VERIFY}`,
      },
      someRequestsFailed: {
        template: '{{errors}} of {{total}} requests from {{source}} to {{target}} served by {{serving}} failed (hosts {{hosts}}): {{cause}}',
        severity: 'warning',
        explainedBy: [...BY_GATEWAY_HERE, ...BY_EASTWEST_PATH_HERE, ...BY_NETWORK_UNKNOWN, ...BY_UNINJECTED_ENDPOINTS, ...BY_BROKEN_TRUST, ...BY_EXTERNAL_CONTROL_PLANE, ...BY_AMBIENT_CLIENT_HERE],
        hint: `Intermittent failures: look at the serving pods (readiness, restarts) and at outlier detection. ${HINT_VERIFY}`,
      },
      noEndpointsForCluster: {
        template: '{{serving}} has {{endpoints}} ready endpoint(s) for {{target}}, but the sidecar of {{source}} has no endpoint leading there: {{cause}}',
        severity: 'error',
        // istiod gives proxies on other networks no endpoint of a network it has no gateway for (the serving
        // cluster's), nor of endpoints there without a sidecar (EndpointsByNetworkFilter, conformance goldens);
        // and the caller's istiod has none of a peer it does not discover (its remote secret, sync).
        explainedBy: [...BY_GATEWAY_UNPUBLISHED_HERE, ...BY_CALLERS_VIEW, ...BY_SERVICE_PORTS, ...BY_UNINJECTED_ENDPOINTS, ...BY_EXTERNAL_CONTROL_PLANE],
        hint: `istiod did not give the source's proxy that cluster's endpoints: see services/cross-cluster-discovery, services/endpoints and network/gateway-view; list what it has: istioctl proxy-config endpoints -n <pod namespace> <pod name> --cluster "outbound|{{port}}||{{fqdn}}".`,
      },
      neverServed: {
        template: '{{serving}} served none of {{requests}} requests from {{source}} to {{target}}, though {{why}} (chance of that by luck: {{chance}})',
        severity: 'error',
        // An ambient source's ztunnel sends to local endpoints only when it has no way into the serving network.
        explainedBy: [
          { check: 'ambient/ztunnel-view', messages: ['noRemoteNetworkWorkload'], when: 'cluster' },
          ...BY_AMBIENT_GATEWAY_HERE,
          { check: 'ambient/global-services', messages: ['globalLabelAsymmetric', 'scopeConfigMissing'], when: 'mesh' },
          { check: 'ambient/multi-network', messages: ['multiNetworkOff', 'ambientOff', 'ztunnelClusterIdMismatch'], when: 'mesh' },
        ],
        hint: `Traffic stays away from that cluster: a DestinationRule with locality failover or subsets (kubectl get destinationrules -A), or its endpoints are unhealthy in Envoy. ${HINT_VERIFY}`,
      },
      notObserved: {
        template: '{{serving}} served none of {{requests}} requests from {{source}} to {{target}}; with that few requests it may be chance ({{chance}})',
        severity: 'info',
        hint: 'Send more requests: --probe-count 30.',
      },
      servingUnknown: {
        template: 'No response of {{target}} to {{source}} names the pod that served it, and an ambient source has no Envoy counters: which clusters served is unknown',
        severity: 'info',
        hint: 'Probe a path that answers with its pod name, as istio.io\'s ambient verification does: --probe-to helloworld.sample:5000/hello (or an echo server that prints its hostname); or probe from a pod with a sidecar (--probe-from).',
      },
      sourceProbeFailed: {
        template: 'No cross-cluster measurement from {{cluster}}: the probe could not run there ({{reason}}); the matrix has no row for it',
        severity: 'info',
        hint:
          'The probe broke, not the mesh: connectivity/http and connectivity/dns on that cluster say more. Try it yourself: ' +
          'kubectl --context <{{cluster}} context> exec -n <pod namespace> <source pod> -c <app container> -- curl -sS -m 3 http://<target host:port>/; a hanging exec ' +
          'points at the API server or the kubelet (kubectl get --raw /readyz, node status). Raise --probe-timeout for slow links.',
      },
      sourceNotMeasured: {
        template: 'No cross-cluster measurement from {{cluster}}: {{reason}}',
        severity: 'info',
        hint: 'Choose a meshed pod with curl there: --probe-from NAMESPACE/LABEL-SELECTOR (e.g. sample/app=curl, from Istio\'s samples/curl).',
      },
    },
  },
  async run(ctx) {
    const settings = probeSettings(ctx.options, ctx.clusterInfos);
    const allTargets = await probeTargets(ctx, settings);
    if (allTargets.length === 0) ctx.skip(NO_TARGETS_REASON);

    // Every cluster's round concurrently; a cluster without a usable source is noted, not fatal, and
    // neither is a probe that breaks there (an exec that hangs): the other sources' rows still count.
    // An external control plane cluster runs no proxies of the mesh: it is no source, and no note says so.
    const sources = ctx.clusters.map((reader, i) => ({ reader, i })).filter(({ i }) => dataPlaneSkipReason(ctx.clusterInfos[i]) === undefined);
    const measured = await Promise.all(
      sources.map(async ({ reader, i }): Promise<SourceOutcome> => {
        try {
          return await measureFrom(ctx, reader, i, settings, allTargets);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          if (err instanceof AccessError && (err.reason === 'forbidden' || err.reason === 'offline')) return { reader, reason: err.message };
          return { reader, reason: err instanceof Error ? err.message : String(err), probeFailed: true };
        }
      }),
    );
    const rounds = measured.filter((m) => m.round).map((m) => m.round!);
    const why = () => measured.map((m) => `${m.reader.name}: ${m.reason}`).join('; ');
    if (rounds.length === 0 && measured.some((m) => m.probeFailed)) throw new Error(`the probes broke in every cluster: ${why()}`);
    // One reason everywhere (no source pod has a probe tool): its id is the skip's.
    const reasonIds = new Set(measured.map((m) => m.reasonId));
    if (rounds.length === 0) ctx.skip(`no cluster could be measured: ${why()}`, reasonIds.size === 1 ? [...reasonIds][0] : undefined);
    const unmeasured: UnmeasuredSource[] = [];
    for (const m of measured) {
      if (!m.reason) continue;
      unmeasured.push({ source: m.reader.name, reason: m.reason, probeFailed: m.probeFailed === true });
      ctx.report({ messageId: m.probeFailed ? 'sourceProbeFailed' : 'sourceNotMeasured', cluster: m.reader.name, data: { cluster: m.reader.name, reason: m.reason } });
    }

    const owners = await endpointOwners(ctx);
    const gateways = await eastWestGateways(ctx);
    const pods = rounds.some((r) => !r.statsBefore) ? await podsByName(ctx) : new Map<string, string>();
    const matrices: TargetMatrix[] = [];
    for (const target of allTargets) {
      const expectedCounts = target.service ? await readyEndpointsByCluster(ctx.clusters, ctx.clusterInfos, target.service) : new Map<string, number>();
      const matrix: TargetMatrix = { target: target.label, serving: [], expected: orderClusters(ctx, [...expectedCounts.keys()]), rows: [] };
      if (unmeasured.length) matrix.unmeasured = unmeasured;
      for (const round of rounds) {
        const t = round.targets.find((x) => x.target.label === target.label);
        if (!t) continue;
        const pod = `${round.source.pod.namespace}/${round.source.pod.name}`;
        if (!round.statsBefore) {
          const row = ambientRow(ctx, round, t, target, pods);
          if (!row) continue;
          matrix.rows.push({ source: round.source.cluster, pod, cells: row.cells });
          judgeRow(ctx, { source: round.source.cluster, pod, target: target.label, service: target.service && `${target.service.namespace}/${target.service.name}`, fqdn: t.fqdn, port: target.port, cells: row.cells, kinds: new Map(), expectedCounts, gateways, curlDetails: row.curlDetails, envoy: false });
          continue;
        }
        const cells: Record<string, MatrixCell> = {};
        const kinds = new Map<string, Set<'pod' | 'gateway' | 'unknown'>>();
        const deltas = hostDeltas(round.statsBefore!, round.statsAfter!, t.fqdn, target.port);
        // What curl saw of the requests each serving cluster failed (unexplained hosts under UNKNOWN).
        const failuresBy = new Map<string, { count: number; detail: string }[]>();
        for (const failure of attributeFailures(t.requests, deltas, owners)) {
          const column = failure.serving ?? (failure.hosts.length ? UNKNOWN : undefined);
          if (column) failuresBy.set(column, [...(failuresBy.get(column) ?? []), failure]);
        }
        const curlDetails = new Map([...failuresBy].map(([column, list]) => [column, list.length === 1 ? list[0].detail : list.map((f) => `${f.count}x ${f.detail}`).join('; ')]));
        for (const delta of deltas) {
          const owner = owners.get(splitHost(delta.host).address);
          const serving = owner?.cluster ?? UNKNOWN;
          const cell = (cells[serving] ??= { success: 0, errors: 0, hosts: [] });
          cell.success += delta.success;
          cell.errors += delta.errors;
          cell.hosts.push(delta.host);
          const set = kinds.get(serving) ?? new Set();
          set.add(owner?.kind ?? 'unknown');
          kinds.set(serving, set);
        }
        const source = round.source.cluster;
        matrix.rows.push({ source, pod: `${round.source.pod.namespace}/${round.source.pod.name}`, cells });
        judgeRow(ctx, { source, pod: `${round.source.pod.namespace}/${round.source.pod.name}`, target: target.label, service: target.service && `${target.service.namespace}/${target.service.name}`, fqdn: t.fqdn, port: target.port, cells, kinds, expectedCounts, gateways, curlDetails, envoy: true });
      }
      const columns = new Set([...matrix.rows.flatMap((r) => Object.keys(r.cells)), ...matrix.expected]);
      matrix.serving = [...orderClusters(ctx, [...columns].filter((c) => c !== UNKNOWN)), ...(columns.has(UNKNOWN) ? [UNKNOWN] : [])];
      if (matrix.rows.length) matrices.push(matrix);
    }
    ctx.attach('matrix', matrices);
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/** Select the source pod of a cluster and run its probe round; a reason when it has no usable source. Probe failures throw. */
async function measureFrom(ctx: Ctx, reader: ClusterReader, index: number, settings: ProbeSettings, allTargets: ProbeTarget[]): Promise<SourceOutcome> {
  if (ctx.clusterInfos[index]?.reachable === false) return { reader, reason: 'cluster unreachable' };
  if (!reader.live) return { reader, reason: 'offline snapshot' };
  const selection = await untilAborted(selectSource(ctx.memo, reader, settings), ctx.signal);
  if ('skip' in selection) return { reader, reason: selection.skip, reasonId: selection.skipId };
  const noTool = missingTool(selection.source, ['curl']);
  if (noTool) return { reader, reason: noTool };
  const targets = await targetsFor(reader, selection.source, allTargets);
  const round = await untilAborted(probeRound(ctx.memo, reader, selection.source, targets, settings), ctx.signal);
  if (round.statsError) return { reader, reason: `cannot read its sidecar's Envoy counters: ${round.statsError}` };
  return { reader, round };
}

/** Clusters in report order. */
function orderClusters(ctx: Ctx, names: string[]): string[] {
  const order = ctx.clusters.map((c) => c.name);
  return [...new Set(names)].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

interface RowInput {
  source: string;
  pod: string;
  target: string;
  /** The target's Service, `namespace/name` (undefined for a host that is no Service). */
  service: string | undefined;
  fqdn: string;
  port: number;
  cells: Record<string, MatrixCell>;
  kinds: Map<string, Set<'pod' | 'gateway' | 'unknown'>>;
  expectedCounts: Map<string, number>;
  gateways: Awaited<ReturnType<typeof eastWestGateways>>;
  /** Per serving cluster: what curl saw of the requests that failed there. */
  curlDetails: Map<string, string>;
  /** The cells come from the source sidecar's Envoy counters (else from the responses: an ambient source). */
  envoy: boolean;
}

/** Pod name -> cluster over every readable cluster, once per run (ambient rows attribute by it). */
function podsByName(ctx: Ctx): Promise<Map<string, string>> {
  return ctx.memo.get('probe-pod-clusters', async () =>
    podClusters(
      await Promise.all(
        ctx.clusters.map(async (reader, i) => ({ cluster: reader.name, pods: ctx.clusterInfos[i]?.reachable === false ? [] : await peerRead(() => reader.list('pods'), []) })),
      ),
    ),
  );
}

/** Text for the hosts of a cell without Envoy counters. */
const NO_ENVOY_HOSTS = 'unknown: an ambient source has no Envoy counters';

/**
 * The row of an ambient source (no sidecar, so no Envoy counters): successful requests go to the
 * cluster of the pod their response names, failed ones to the unknown column (curl tells why, not
 * where). Undefined, after an info finding, when requests succeeded but no response named a pod.
 */
function ambientRow(ctx: Ctx, round: ProbeRound, t: ProbeRound['targets'][number], target: ProbeTarget, pods: Map<string, string>): { cells: Record<string, MatrixCell>; curlDetails: Map<string, string> } | undefined {
  const by = attributeByResponse(t.requests, pods);
  const source = `${round.source.cluster} (${round.source.pod.namespace}/${round.source.pod.name})`;
  if (by.served.size === 0 && by.unattributed > 0) {
    ctx.report({ messageId: 'servingUnknown', cluster: round.source.cluster, data: { source, target: target.label } });
    return undefined;
  }
  const cells: Record<string, MatrixCell> = {};
  for (const [cluster, success] of by.served) cells[cluster] = { success, errors: 0, hosts: [] };
  const curlDetails = new Map<string, string>();
  if (by.failed > 0) {
    cells[UNKNOWN] = { success: 0, errors: by.failed, hosts: [] };
    const details = [...new Map(t.requests.filter((r) => r.failure).map((r) => [r.failure!.detail, t.requests.filter((x) => x.failure?.detail === r.failure!.detail).length])).entries()];
    curlDetails.set(UNKNOWN, details.length === 1 ? details[0][0] : details.map(([detail, n]) => `${n}x ${detail}`).join('; '));
  }
  return { cells, curlDetails };
}

/** Findings of one source's row: failing cells, and expected clusters that never served. */
function judgeRow(ctx: Ctx, row: RowInput): void {
  const networkOf = (cluster: string) => ctx.clusterInfos.find((i) => i.name === cluster)?.network;
  const sourceText = `${row.source} (${row.pod})`;
  const base = { source: sourceText, target: row.target, fqdn: row.fqdn, port: row.port };
  // Requests whose serving cluster is known: every request Envoy counted, or (ambient) the responses that named their pod.
  const requests = Object.entries(row.cells).reduce((n, [column, c]) => n + (row.envoy ? c.success + c.errors : column === UNKNOWN ? 0 : c.success), 0);
  // For root causes: the caller, and the service probed.
  const about = { peer: row.source, service: row.service };
  for (const [serving, cell] of Object.entries(row.cells)) {
    if (cell.errors === 0) continue;
    const cause = explainServingFailure({ sourceNetwork: networkOf(row.source), servingCluster: serving, servingNetwork: networkOf(serving), hostKinds: row.kinds.get(serving) ?? new Set(), gateways: row.gateways, curlDetail: row.curlDetails.get(serving) });
    const data = { ...base, serving, errors: cell.errors, total: cell.errors + cell.success, hosts: row.envoy ? cell.hosts.join(', ') : NO_ENVOY_HOSTS, cause };
    ctx.report({ messageId: cell.success === 0 ? 'allRequestsFailed' : 'someRequestsFailed', cluster: serving === UNKNOWN ? row.source : serving, ...about, data });
  }
  // No request reached Envoy (DNS or connect failed before it): connectivity/http and dns say why.
  if (requests === 0) return;
  const totalEndpoints = [...row.expectedCounts.values()].reduce((a, b) => a + b, 0);
  for (const [serving, endpoints] of row.expectedCounts) {
    const cell = row.cells[serving];
    if (cell && cell.success + cell.errors > 0) continue;
    // Without Envoy counters (ambient) nothing tells whether the source's ztunnel knows that cluster's endpoints: chance decides.
    if (!cell && row.envoy) {
      const cause = explainServingFailure({ sourceNetwork: networkOf(row.source), servingCluster: serving, servingNetwork: networkOf(serving), hostKinds: new Set(), gateways: row.gateways, curlDetail: 'istiod sent no endpoint of that cluster (is it discovered? is its network\'s gateway known? do its endpoints have a sidecar? istiod sends other networks none without one)' });
      ctx.report({ messageId: 'noEndpointsForCluster', cluster: serving, ...about, data: { ...base, serving, endpoints, cause } });
      continue;
    }
    // Endpoints present but idle: how likely is that by chance with this many requests?
    const share = totalEndpoints > 0 ? endpoints / totalEndpoints : 0;
    const chance = Math.pow(1 - share, requests);
    const why = row.envoy ? `the sidecar of ${row.source} has endpoints there` : `it has ${endpoints} ready endpoint(s) for it`;
    const data = { ...base, serving, requests, why, chance: chance < 0.001 ? '<0.1%' : `${(chance * 100).toFixed(1)}%` };
    // An ambient source's ztunnel picks among the workloads istiod gave it: no Envoy to watch.
    const hint = row.envoy || chance >= CHANCE_THRESHOLD ? {} : { hint: `The source's ztunnel sends only to workloads istiod gave it: istioctl --context=<${row.source} context> ztunnel-config workloads | grep ${row.fqdn.split('.')[0]} (one SplitHorizon workload per peer network); see ambient/ztunnel-view and ambient/eastwest-gateway.` };
    ctx.report({ messageId: chance < CHANCE_THRESHOLD ? 'neverServed' : 'notObserved', cluster: serving, data, ...hint });
  }
}
