// Encodes the traffic verification of https://istio.io/latest/docs/setup/install/multicluster/verify/ (curl from a meshed pod, per cluster).
import { defineCheck } from '../../engine/define-check.ts';
import { hostDeltas } from '../../mesh/envoy-clusters.ts';
import { attributeFailures, explainServingFailure } from '../../mesh/probes/attribution.ts';
import type { FailureKind } from '../../mesh/probes/curl.ts';
import { probeRound, summarizeRequests } from '../../mesh/probes/http-round.ts';
import { probeSettings } from '../../mesh/probes/options.ts';
import { eastWestGateways, endpointOwners } from '../../mesh/probes/peers.ts';
import { sourceOrSkip } from '../../mesh/probes/source.ts';
import { targetsOrSkip } from '../../mesh/probes/targets.ts';
import { untilAborted } from '../../util/abort.ts';
import { BY_AMBIENT_CLIENT_HERE, BY_BROKEN_TRUST, BY_EASTWEST_PATH_HERE, BY_EXTERNAL_CONTROL_PLANE, BY_GATEWAY_HERE, BY_NETWORK_UNKNOWN, BY_SERVICE_PORTS, BY_UNINJECTED_ENDPOINTS } from '../../engine/explanations.ts';
import { dataPlaneSkipReason } from '../../mesh/roles.ts';

const ID = 'connectivity/http';

/** messageId of each failure kind. */
const FAILURE_MESSAGES = {
  dns: 'dnsFailure',
  connect: 'connectFailure',
  timeout: 'timeout',
  tls: 'tlsFailure',
  reset: 'connectionReset',
  upstream: 'upstreamError',
  server: 'serverError',
  other: 'requestFailed',
} as const satisfies Record<FailureKind, string>;

const VERIFY =
  'Reproduce: kubectl exec -n {{namespace}} {{podName}} -c {{container}} -- curl -sS -m 3 {{url}}; ' +
  'see which endpoints Envoy uses: istioctl proxy-config endpoints -n {{namespace}} {{podName}} --cluster "outbound|{{port}}||{{fqdn}}"';

export default defineCheck({
  id: ID,
  category: 'connectivity',
  scope: 'cluster',
  // An external control plane cluster runs no proxies of the mesh.
  appliesTo: dataPlaneSkipReason,
  needs: ['exec', 'pods', 'namespaces', 'services', 'nodes', 'k8sgateways', 'configmaps'],
  meta: {
    description: 'HTTP requests from a meshed pod of the cluster to each probe target succeed',
    details:
      'From a source pod per cluster (--probe-from, else a Running pod with a sidecar and curl, preferring namespace sample) ' +
      'the check sends --probe-count requests (default 10) to each target with curl in the application container, so they ' +
      'go through the sidecar as the application\'s would, each bounded by --probe-timeout (default 3s). Failures are ' +
      'classified: curl exit 6 (DNS), 7 (connect), 28 (timeout), 35/60 (TLS), 52/56 (reset), and HTTP 5xx with Envoy\'s ' +
      'reason (no healthy upstream, upstream connect error ... TLS error). Any status below 500 counts as reached. Status ' +
      'counts and p50/p95 latency are reported per target (the summary finding and `http` in JSON). The sidecar\'s Envoy ' +
      'counters, read before and after the requests, tell which cluster\'s endpoints the failing requests went to: there ' +
      'is one finding per serving cluster and failure kind, on the serving cluster (on the source cluster when the ' +
      'counters do not tell, e.g. no endpoint at all or a DNS failure).',
    docs: 'https://istio.io/latest/docs/setup/install/multicluster/verify/',
    messages: {
      dnsFailure: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} failed: DNS ({{detail}})',
        severity: 'error',
        // curl exits 6 when the name does not resolve: what connectivity/dns found for the same service, in the same cluster, and why.
        explainedBy: [
          { check: 'connectivity/dns', messages: ['remoteOnlyNotResolved'], when: 'service' },
          { check: 'services/remote-only-dns', messages: ['remoteOnlyServiceNoDnsCapture'], when: 'service' },
        ],
        hint: `The name does not resolve in the pod: see connectivity/dns. ${VERIFY}`,
      },
      connectFailure: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} could not connect ({{detail}})',
        severity: 'error',
        // Nothing accepted it: through another network, the serving cluster's east-west gateway (its pods, port, policy);
        // an unroutable pod IP; a port the service lacks in this cluster.
        explainedBy: [...BY_EASTWEST_PATH_HERE, ...BY_NETWORK_UNKNOWN, ...BY_SERVICE_PORTS, ...BY_AMBIENT_CLIENT_HERE],
        hint: `Nothing accepted the connection: is the Service port right and is there a sidecar? ${VERIFY}`,
      },
      timeout: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} timed out after {{timeout}}{{servedBy}}: {{cause}}',
        severity: 'error',
        // The finding names the serving cluster when the failing requests went to it: its gateway path dropping them,
        // or pod IPs of a cluster without network; else the caller: a port its own definition of the service lacks.
        explainedBy: [...BY_EASTWEST_PATH_HERE, ...BY_NETWORK_UNKNOWN, ...BY_SERVICE_PORTS, ...BY_AMBIENT_CLIENT_HERE],
        hint: `A blocked path (firewall, security group, NetworkPolicy) or an unroutable address; test the peer gateway: meshdoctor --only connectivity/gateway-reachability. ${VERIFY}`,
      },
      tlsFailure: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} failed the TLS handshake{{servedBy}}: {{cause}}',
        severity: 'error',
        explainedBy: BY_BROKEN_TRUST,
        hint: `CERTIFICATE_VERIFY_FAILED between clusters: they do not share a root of trust (see certificates/shared-root for the fix). ${VERIFY}`,
      },
      connectionReset: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} were reset ({{detail}})',
        severity: 'error',
        explainedBy: [...BY_GATEWAY_HERE, ...BY_EASTWEST_PATH_HERE, ...BY_UNINJECTED_ENDPOINTS, ...BY_BROKEN_TRUST, ...BY_EXTERNAL_CONTROL_PLANE, ...BY_AMBIENT_CLIENT_HERE],
        hint: `A reset usually means an mTLS mismatch (a STRICT PeerAuthentication towards a client without a sidecar) or a crashing server. ${VERIFY}`,
      },
      upstreamError: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} got Envoy\'s 503{{servedBy}}: {{cause}}',
        severity: 'error',
        explainedBy: [...BY_GATEWAY_HERE, ...BY_EASTWEST_PATH_HERE, ...BY_UNINJECTED_ENDPOINTS, ...BY_BROKEN_TRUST, ...BY_EXTERNAL_CONTROL_PLANE, ...BY_AMBIENT_CLIENT_HERE],
        hint:
          '"no healthy upstream": Envoy has no healthy endpoint (services/endpoints); "connection termination" through an east-west gateway: ' +
          'its 15443 Gateway is not AUTO_PASSTHROUGH (network/cross-network-gateway) or the destination has no sidecar (services/endpoints). ' + VERIFY,
      },
      serverError: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} got a server error ({{detail}})',
        severity: 'error',
        hint: `The application answered 5xx: read the serving pods' logs (kubectl logs -n <service namespace> -l <service selector> -c <app container>). ${VERIFY}`,
      },
      requestFailed: {
        template: '{{failed}}/{{total}} requests from {{source}} to {{target}} failed ({{detail}})',
        severity: 'error',
        hint: VERIFY,
      },
      summary: {
        template: '{{source}} -> {{target}}: {{ok}}/{{total}} reached (status {{statuses}}), p50 {{p50}}, p95 {{p95}}',
        severity: 'info',
        hint: 'Nothing to do; latency is curl\'s time_total through the mesh (the sidecar, or ztunnel for an ambient pod).',
      },
    },
  },
  async run(ctx) {
    const reader = ctx.cluster;
    const settings = probeSettings(ctx.options, ctx.clusterInfos);
    const source = await sourceOrSkip(ctx, settings, ['curl']);
    const targets = await targetsOrSkip(ctx, settings, source);

    const round = await untilAborted(probeRound(ctx.memo, reader, source, targets, settings), ctx.signal);
    const sourceText = `${reader.name} (${source.pod.namespace}/${source.pod.name})`;
    const attached: Record<string, unknown>[] = [];
    for (const t of round.targets) {
      const summary = summarizeRequests(t.requests);
      attached.push({ source: reader.name, pod: `${source.pod.namespace}/${source.pod.name}`, target: t.target.label, ...summary });
      const url = `http://${t.fqdn}:${t.target.port}${t.target.path}`;
      const base = {
        source: sourceText,
        target: t.target.label,
        total: summary.total,
        namespace: source.pod.namespace,
        podName: source.pod.name,
        container: source.container,
        url,
        fqdn: t.fqdn,
        port: t.target.port,
        timeout: `${settings.timeoutMs / 1000}s`,
      };
      const statuses = Object.entries(summary.statuses).map(([s, n]) => `${s}: ${n}`).join(', ');
      const ms = (v?: number) => (v === undefined ? 'n/a' : `${v} ms`);
      ctx.report({ messageId: 'summary', data: { ...base, ok: summary.ok, statuses, p50: ms(summary.p50Ms), p95: ms(summary.p95Ms) } });
      if (summary.failed === 0) continue;
      // One finding per serving cluster and failure kind, on the serving cluster (the source when unknown).
      const deltas = round.statsBefore && round.statsAfter ? hostDeltas(round.statsBefore, round.statsAfter, t.fqdn, t.target.port) : undefined;
      const owners = await endpointOwners(ctx);
      const gateways = await eastWestGateways(ctx);
      for (const failure of attributeFailures(t.requests, deltas, owners)) {
        const serving = failure.serving;
        const cause = serving
          ? explainServingFailure({ sourceNetwork: ctx.clusterInfo.network, servingCluster: serving, servingNetwork: ctx.clusterInfos.find((i) => i.name === serving)?.network, hostKinds: failure.hostKinds, gateways, curlDetail: failure.detail })
          : failure.detail;
        const servedBy = serving
          ? ` (failing requests went to ${serving}'s endpoints ${failure.hosts.join(', ')})`
          : failure.hosts.length
            ? ` (failing requests went to endpoints no cluster explains: ${failure.hosts.join(', ')})`
            : '';
        ctx.report({
          messageId: FAILURE_MESSAGES[failure.kind],
          cluster: serving,
          // For root causes: the caller, and the service probed (none for a host that is no Service).
          peer: reader.name,
          service: t.target.service && `${t.target.service.namespace}/${t.target.service.name}`,
          data: { ...base, failed: failure.count, detail: failure.detail, cause, servedBy, serving },
        });
      }
    }
    ctx.attach('http', attached);
  },
});
