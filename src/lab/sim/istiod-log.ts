// The lab istiod's `discovery` log: the lines real istiod writes for what its view of the mesh holds
// (a refused remote kubeconfig, a cluster id registered twice, a remote that never syncs), in istiod's
// `<time>\t<level>\t<scope>\t<message>` format. A healthy istiod logs none of them. A missing remote
// secret logs nothing in real istiod either (there is no secret to fail on), so neither does the lab.
import type { AmbientView } from './ambient.ts';
import type { IstiodView } from './istiod.ts';

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
      lines.push(`${t}\terror\tkube\tsecret=${secret} cluster_id=${r.key}: create remote cluster failed: ${field} is not allowed`);
    } else if (r.reason === 'cluster id in more than one secret') {
      lines.push(`${t}\twarn\tkube\tcluster ${r.key} from secret ${secret} has already been registered`);
    }
  }
  for (const reg of istiod.registries) {
    if (reg.secretName === '' || reg.syncStatus !== 'timeout') continue;
    lines.push(`${t}\terror\tkube\tremote cluster ${reg.id} failed to sync after 30s`);
  }
  // The ambient registry, once per GLOBAL Service whose peer network has no gateway; pkg/log's default scope prints no scope column.
  for (const network of ambient?.noGatewayNetworks ?? []) lines.push(`${t}\twarn\tNo network gateway found for network ${network}`);
  lines.push(`${at(now.getTime())}\tinfo\tads\tPush debounce stable[42] 1 for config ServiceEntry: 100.1ms since last change`);
  return lines;
}
