// The lines operators grep istiod's `discovery` log for in multicluster trouble, in one table: what
// each means, the Istio source line that writes it (istio/istio at 86c9f01), and what to do. Real
// istiod logs `<time>\t<level>\t<scope>\t<message>[\t<key=value ...>]`, without the scope column for
// the default scope (pkg/log/scope.go:103 at 86c9f01 and eed52ebb66ad: only another scope sets
// nameToEmit), which the multicluster secret controller logs in; signatures match the message, so a
// scope or level change between releases does not hide them.

/** One known log line. */
export interface IstiodLogSignature {
  /** messageId of control-plane/istiod-logs reporting it. */
  messageId: 'noNetworkGateway' | 'clientClaimsCluster' | 'kubeconfigRejected' | 'clusterRegisteredTwice' | 'remoteSyncFailed' | 'peerUnknownAuthority';
  severity: 'error' | 'warning';
  /** What the line says, in a few words. */
  what: string;
  /** Matches the message part of a line. */
  pattern: RegExp;
  /** Where istiod writes it (istio/istio path:line at 86c9f01). */
  source: string;
  hint: string;
}

export const ISTIOD_LOG_SIGNATURES: readonly IstiodLogSignature[] = [
  {
    messageId: 'kubeconfigRejected',
    severity: 'error',
    what: 'a remote secret\'s kubeconfig was refused (exec, auth-provider or file-based credentials are not allowed)',
    // HEAD's wording, and older releases' `Adding cluster_id=<id> from secret=<ns/name>: <error>` (the
    // stored secretcontroller.go of istio/istio 00ab085 logs the refusal that way, without the phrase).
    pattern: /create remote cluster failed|cluster_id=\S+ from secret=\S+: .*\bnot allowed\b/,
    // The refusal itself comes from pkg/kube/util.go:106 and :452-466 (sanitizeKubeConfig).
    source: 'pkg/kube/multicluster/secretcontroller.go:460',
    hint:
      'Recreate the remote secret with a token-based kubeconfig (istioctl create-remote-secret), or allow the plugin ' +
      'knowingly with PILOT_INSECURE_MULTICLUSTER_KUBECONFIG_OPTIONS=exec on istiod (istio#61773)',
  },
  {
    messageId: 'clusterRegisteredTwice',
    severity: 'error',
    what: 'a cluster id was registered twice (two remote secrets, or a secret keyed with the local id)',
    pattern: /already been registered/,
    source: 'pkg/kube/multicluster/secretcontroller.go:453',
    hint: 'Keep one remote secret per cluster id: kubectl -n istio-system get secrets -l istio/multiCluster=true -o yaml, and delete the duplicate',
  },
  {
    messageId: 'remoteSyncFailed',
    severity: 'error',
    what: 'a remote cluster failed to sync (API unreachable, credentials refused or RBAC missing)',
    pattern: /failed to sync after/,
    source: 'pkg/kube/multicluster/cluster.go:205',
    hint:
      'Check the peer API from istiod\'s side: the server and token of the remote secret, and that its service account may list and watch ' +
      'pods, services, endpointslices and namespaces; istiod before 1.29 did not recover without a restart (istio#58047)',
  },
  {
    messageId: 'peerUnknownAuthority',
    severity: 'error',
    what: 'a peer API server\'s certificate is not signed by the CA in the remote secret',
    pattern: /x509: certificate signed by unknown authority/,
    source: 'crypto/x509 (Go) through client-go, for the remote secret\'s certificate-authority-data',
    hint: 'Regenerate the remote secret so its certificate-authority-data is the peer API server\'s CA (istioctl create-remote-secret --context=<peer>)',
  },
  {
    messageId: 'clientClaimsCluster',
    severity: 'error',
    what: 'a proxy claims a cluster id istiod has no credentials for, so its certificate request is refused',
    pattern: /client claims to be in cluster/,
    source: 'security/pkg/server/ca/authenticate/kubeauth/kube_jwt.go:126',
    hint: 'Give istiod a remote secret for that cluster, or fix the proxies\' ISTIO_META_CLUSTER_ID (values global.multiCluster.clusterName) to the id istiod knows',
  },
  {
    messageId: 'noNetworkGateway',
    severity: 'warning',
    what: 'ambient: no network gateway was found for a remote network, so its workloads are unreachable',
    pattern: /No network gateway found for network/,
    // Written by the ambient registry only: a sidecar-mode mesh never logs it.
    source: 'pilot/pkg/serviceregistry/ambient/multicluster.go:358',
    hint: 'Deploy the east-west gateway of that network with the topology.istio.io/network label, and check network/eastwest-gateway',
  },
];

/** One signature's matches in one log. */
export interface SignatureMatch {
  signature: IstiodLogSignature;
  count: number;
  /** The first matching line, as logged. */
  first: string;
}

/**
 * The message (and the key=value labels after it) of a `<time>\t<level>\t[<scope>\t]<message>` line;
 * the whole line when it is not in that format. A scope is one word; a default-scope line has none,
 * so its message is the third field (`...\terror\tAdd cluster: create remote cluster failed: ...\tcluster=c2 config=...`).
 */
export function logMessage(line: string): string {
  const parts = line.split('\t');
  if (parts.length < 3 || !/^\d{4}-\d\d-\d\dT/.test(parts[0])) return line;
  const scoped = parts.length >= 4 && /^[A-Za-z][\w.-]*$/.test(parts[2]);
  return parts.slice(scoped ? 3 : 2).join('\t');
}

/** The signatures a log holds, in table order, each with its count and first line. */
export function matchSignatures(text: string): SignatureMatch[] {
  const matches = new Map<IstiodLogSignature, SignatureMatch>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const message = logMessage(line);
    for (const signature of ISTIOD_LOG_SIGNATURES) {
      if (!signature.pattern.test(message)) continue;
      const match = matches.get(signature);
      if (match) match.count += 1;
      else matches.set(signature, { signature, count: 1, first: line });
    }
  }
  return ISTIOD_LOG_SIGNATURES.flatMap((s) => matches.get(s) ?? []);
}
