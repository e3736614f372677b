// Connectivity probe options: `--probe-from`, `--probe-to`, `--probe-count`, `--probe-timeout`,
// parsed once into the settings every probe of a run uses.
import type { CheckOptions, ClusterInfo } from '../../engine/types.ts';
import { istioNamespacesOf } from '../roles.ts';
import { parseLabelSelector, type LabelSelector } from '../labels.ts';

/** Default requests per target. */
export const DEFAULT_PROBE_COUNT = 10;
/** Default per-request timeout. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;
const CLUSTER_DOMAIN = 'cluster.local';

/** A parsed `--probe-from NAMESPACE/LABEL-SELECTOR`. */
export interface ProbeFromSpec {
  text: string;
  namespace: string;
  selector: LabelSelector;
}

/** Parse `--probe-from NAMESPACE/LABEL-SELECTOR` (`sample/app=curl`; `sample/` takes any pod of the namespace). */
export function parseProbeFrom(text: string): ProbeFromSpec {
  const slash = text.indexOf('/');
  if (slash <= 0) throw new Error(`bad --probe-from "${text}": expected NAMESPACE/LABEL-SELECTOR, e.g. sample/app=curl`);
  return { text, namespace: text.slice(0, slash), selector: parseLabelSelector(text.slice(slash + 1)) };
}

/** A probe target: an HTTP URL through the source's sidecar. */
export interface ProbeTarget {
  /** As shown in reports: `helloworld.sample:5000/`. */
  label: string;
  /** Host as given; a name without dots is relative to the source pod's namespace. */
  host: string;
  port: number;
  path: string;
  /** The Service behind it, when it is one (namespace known). */
  service?: { namespace: string; name: string };
}

/** Parse `--probe-to HOST[:PORT][/PATH]` (an `http://` prefix is accepted). Port defaults to 80. */
export function parseProbeTo(text: string): ProbeTarget {
  const m = /^(?:http:\/\/)?([A-Za-z0-9.-]+)(?::(\d+))?(\/.*)?$/.exec(text.trim());
  if (!m) throw new Error(`bad --probe-to "${text}": expected HOST[:PORT][/PATH], e.g. helloworld.sample:5000/hello`);
  const host = m[1].toLowerCase();
  const port = m[2] ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) throw new Error(`bad --probe-to "${text}": port ${port} out of range`);
  const path = m[3] ?? '/';
  const target: ProbeTarget = { label: `${host}:${port}${path}`, host, port, path };
  const parts = host.split('.');
  if (parts.length >= 2 && (parts.length === 2 || parts[2] === 'svc')) target.service = { namespace: parts[1], name: parts[0] };
  return target;
}

/** The FQDN a target's host stands for in a pod of `namespace` (Kubernetes search path). */
export function targetFqdn(target: ProbeTarget, namespace: string): string {
  const parts = target.host.split('.');
  if (parts.length === 1) return `${target.host}.${namespace}.svc.${CLUSTER_DOMAIN}`;
  if (parts.length === 2) return `${target.host}.svc.${CLUSTER_DOMAIN}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${target.host}.${CLUSTER_DOMAIN}`;
  return target.host;
}

/** What every probe of a run uses (from CheckOptions). */
export interface ProbeSettings {
  from: ProbeFromSpec[];
  /** Given targets, or undefined for the defaults. */
  to?: ProbeTarget[];
  count: number;
  timeoutMs: number;
  istioNamespace: string;
  /** Every cluster's Istio namespace (src/mesh/roles.ts istioNamespacesOf): no probe source or default target there. */
  systemNamespaces?: readonly string[];
}

/** Probe settings from the check options. Throws on bad --probe-from/--probe-to (the check errors with the reason). */
export function probeSettings(options: CheckOptions, clusterInfos?: readonly ClusterInfo[]): ProbeSettings {
  const count = options.probeCount ?? DEFAULT_PROBE_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`--probe-count must be an integer from 1 to 1000, got ${count}`);
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new Error(`--probe-timeout must be positive, got ${timeoutMs} ms`);
  const settings: ProbeSettings = { from: (options.probeFrom ?? []).map(parseProbeFrom), count, timeoutMs, istioNamespace: options.istioNamespace };
  if (clusterInfos) settings.systemNamespaces = istioNamespacesOf(clusterInfos, options.istioNamespace);
  if (options.probeTo?.length) settings.to = options.probeTo.map(parseProbeTo);
  return settings;
}
