// The lab istiod's `discovery` log: the lines real istiod writes for what its view of the mesh holds
// (a refused remote kubeconfig, a cluster id registered twice, a remote that never syncs), in istiod's
// `<time>\t<level>\t[<scope>\t]<message>[\t<labels>]` format: the multicluster secret controller logs in
// the default scope, which writes no scope column (pkg/log/scope.go:103), with the labels
// `cluster=<id> config=<namespace/secret>` (pkg/kube/multicluster/secretcontroller.go:433), as the real
// istiod of realstack/ logs them. A healthy istiod logs none of them. A missing remote
// secret logs nothing in real istiod either (there is no secret to fail on), so neither does the lab.
import { ztunnelAccepted, type AmbientView } from './ambient.ts';
import type { IstiodView } from './istiod.ts';

/** The names sanitizeKubeConfig's errors give the kubeconfig keys (pkg/kube/util.go:452-466, eed52ebb66ad). */
const GO_FIELD: Record<string, string> = { 'client-key': 'clientKey', 'client-certificate': 'clientCertificate', 'auth-provider': 'auth provider' };

/** How long before "now" the fault lines were written (inside any reader's window). */
const FAULT_AGE_MS = 90_000;

/** Lines of one istiod pod's discovery log, oldest first, ending at `now`. */
export function istiodLogLines(istiod: IstiodView, now: Date, startedAt: Date, ambient?: AmbientView): string[] {
  const at = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const start = Math.min(startedAt.getTime(), now.getTime() - FAULT_AGE_MS);
  const lines = [
    `${at(start)}\tinfo\tFLAG: --domain="cluster.local"`,
    `${at(start)}\tinfo\tklog\tWaiting for caches to sync`,
    `${at(start)}\tinfo\tkube\tcluster "${istiod.id}" is the config cluster`,
  ];
  const t = at(now.getTime() - FAULT_AGE_MS);
  for (const r of istiod.rejected) {
    const secret = r.secretName;
    if (r.reason.startsWith('kubeconfig uses ')) {
      // pkg/kube/util.go's sanitizeKubeConfig refusal, logged by the secret controller.
      const field = r.reason.slice('kubeconfig uses '.length).replace(/ file$/, '');
      // secretcontroller.go:460 (eed52ebb66ad), the refusal from pkg/kube/util.go:106 and
      // sanitizeKubeConfig (:440-466), which names client-go's fields, not the kubeconfig's keys.
      const refused = GO_FIELD[field] ?? field;
      lines.push(`${t}\terror\tAdd cluster: create remote cluster failed: kubeconfig is not allowed: ${refused} is not allowed\tcluster=${r.key} config=${secret}`);
    } else if (r.reason === 'cluster id in more than one secret') {
      // secretcontroller.go:453 (eed52ebb66ad).
      lines.push(`${t}\twarn\tcluster has already been registered\tcluster=${r.key} config=${secret}`);
    }
  }
  for (const reg of istiod.registries) {
    if (reg.secretName === '' || reg.syncStatus !== 'timeout') continue;
    // pkg/kube/multicluster/cluster.go:205 (eed52ebb66ad), default scope, no labels.
    lines.push(`${t}\terror\tremote cluster ${reg.id} failed to sync after 30s`);
  }
  // A ztunnel of this cluster claiming a cluster id istiod has no credentials for: every certificate
  // request fails in the CA's authenticators (pkg/security/authentication.go:60, the KubeJWT one's
  // error from security/pkg/server/ca/authenticate/kubeauth/kube_jwt.go:126; istio/istio 86c9f01).
  const remotes = istiod.registries.slice(1).map((r) => r.id);
  for (const pod of istiod.view.pods.values()) {
    if (pod.metadata.labels?.app !== 'ztunnel' || ztunnelAccepted(istiod, pod)) continue;
    const proxy = (pod.spec?.containers ?? []).find((c: { name: string }) => c.name === 'istio-proxy');
    const claimed = ((proxy?.env ?? []) as { name: string; value?: string }[]).find((e) => e.name === 'ISTIO_META_CLUSTER_ID')?.value ?? 'Kubernetes';
    lines.push(
      `${t}\terror\tsecurity\tFailed to authenticate client from ${pod.status?.podIP ?? '10.0.0.1'}:41862: Authenticator ClientCertAuthenticator: no verified chain is found; ` +
        `Authenticator KubeJWTAuthenticator: client claims to be in cluster "${claimed}", but we only know about local cluster "${istiod.id}" and remote clusters [${remotes.join(' ')}]`,
    );
  }
  // The ambient registry, once per GLOBAL Service whose peer network has no gateway; pkg/log's default scope prints no scope column.
  for (const network of ambient?.noGatewayNetworks ?? []) lines.push(`${t}\twarn\tNo network gateway found for network ${network}`);
  lines.push(`${at(now.getTime())}\tinfo\tads\tPush debounce stable[42] 1 for config ServiceEntry: 100.1ms since last change`);
  return lines;
}
