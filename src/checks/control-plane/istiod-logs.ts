// Encodes what operators grep istiod's log for in multicluster trouble (istio.io "Diagnose your multicluster
// installation", and the issues of facts section 3); the lines and their Istio source are in src/mesh/istiod-log-signatures.ts.
import { defineCheck } from '../../engine/define-check.ts';
import { clustersRunningIstiod } from '../../mesh/istiod-debug.ts';
import { ISTIOD_LOG_SIGNATURES, matchSignatures, type IstiodLogSignature } from '../../mesh/istiod-log-signatures.ts';
import { redactLogText } from '../../cluster/redact.ts';
import { ISTIOD_LOG_WINDOW } from '../../cluster/types.ts';
import { terminalText } from '../../reporters/sanitize.ts';
import { BY_REMOTE_SECRET, BY_REMOTE_SYNC } from '../../engine/explanations.ts';

/** A first line longer than this is cut: a finding is no place for a whole stack trace. */
const MAX_LINE = 300;

const TEMPLATE = 'istiod pod {{pod}} logged {{count}} line(s) in its last {{minutes}} minutes saying {{what}}; first: {{first}}' as const;

/** What the line follows from, when another check states the cause (same cluster: the primary that logs it). */
const BY_SECRET_OR_SYNC = [...BY_REMOTE_SECRET, ...BY_REMOTE_SYNC] as const;

function message(id: IstiodLogSignature['messageId']) {
  const signature = ISTIOD_LOG_SIGNATURES.find((s) => s.messageId === id)!;
  return { template: TEMPLATE, severity: signature.severity, hint: `${signature.hint} (written at istio/istio ${signature.source})` };
}

/** A line that is istiod's own account of a remote secret or sync failure other checks state first. */
function secretMessage(id: IstiodLogSignature['messageId']) {
  return { ...message(id), explainedBy: BY_SECRET_OR_SYNC };
}

export default defineCheck({
  id: 'control-plane/istiod-logs',
  category: 'control-plane',
  scope: 'cluster',
  needs: ['istiod-logs'],
  meta: {
    description: 'istiod\'s own log of the last 30 minutes holds no known multicluster error',
    details:
      'Reads a bounded window of each istiod pod\'s discovery container log (pods/log: the last 30 minutes, at most ' +
      '5,000 lines and 4 MiB per pod; offline, the snapshot\'s istiod/<pod>/discovery.log) and matches the message of ' +
      'each line against a table of lines istiod writes when multicluster breaks: a remote kubeconfig refused, a cluster ' +
      'registered twice, a remote cluster that failed to sync, a peer API certificate of unknown authority, a proxy ' +
      'claiming an unknown cluster, and (ambient) no network gateway for a network. Each finding gives the count and the ' +
      'first line, credentials redacted. A log that cannot be read is a skip or an error, never a pass.',
    docs: 'https://istio.io/latest/docs/ops/diagnostic-tools/multicluster/',
    messages: {
      kubeconfigRejected: secretMessage('kubeconfigRejected'),
      clusterRegisteredTwice: secretMessage('clusterRegisteredTwice'),
      remoteSyncFailed: secretMessage('remoteSyncFailed'),
      peerUnknownAuthority: secretMessage('peerUnknownAuthority'),
      // The proxy's side of it: a ztunnel (or sidecar) whose ISTIO_META_CLUSTER_ID is not the cluster's.
      clientClaimsCluster: {
        ...message('clientClaimsCluster'),
        explainedBy: [
          { check: 'ambient/multi-network', messages: ['ztunnelClusterIdMismatch'], when: 'cluster' },
          { check: 'control-plane/proxy-sync', messages: ['proxyUnknownCluster'], when: 'cluster' },
        ],
      },
      noNetworkGateway: message('noNetworkGateway'),
    },
  },
  appliesTo: clustersRunningIstiod,
  async run(ctx) {
    const logs = await ctx.cluster.istiodLogs({ signal: ctx.signal });
    if (logs.length === 0) ctx.skip('no running istiod pod whose log could be read');
    for (const log of logs) {
      for (const match of matchSignatures(log.text)) {
        // Live text was never redacted; a snapshot's was, and redacting twice changes nothing.
        let first = terminalText(redactLogText(match.first));
        if (first.length > MAX_LINE) first = `${first.slice(0, MAX_LINE)}...`;
        ctx.report({
          messageId: match.signature.messageId,
          resource: { kind: 'Pod', namespace: log.namespace, name: log.pod },
          data: { pod: log.pod, count: match.count, minutes: ISTIOD_LOG_WINDOW.sinceSeconds / 60, what: match.signature.what, first },
        });
      }
    }
  },
});
