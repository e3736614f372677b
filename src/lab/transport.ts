// Transport faults as command-line specs (`lab serve --transport NAME[:CLUSTER][=VALUE]`), so anyone
// can reproduce an outage, a slow or failing API, an RBAC-limited user or a broken exec with kubectl.
// They change nothing in Istio: they are how the API misbehaves, not what the mesh holds.
import { RESOURCE_KINDS } from '../cluster/kinds.ts';
import type { ResourceKindName } from '../cluster/types.ts';
import { LabError } from './model/errors.ts';

/** How one cluster's API misbehaves (startLab's `transport` option, per cluster name). */
export interface LabTransportOptions {
  /** Delay of every response of this cluster (on top of `latencyMs`). */
  latencyMs?: number;
  /** The API server is down: its port refuses connections (the kubeconfig still names it). */
  down?: boolean;
  /** Requests whose path matches answer HTTP 500. */
  failPaths?: (string | RegExp)[];
  /** The kubeconfig user of this cluster is RBAC-limited: 403 on these kinds. */
  forbidden?: ResourceKindName[];
  /** Every exec into this cluster hangs (never answers) until the client gives up. */
  execHang?: boolean;
  /** Every exec into this cluster closes without a status on channel 3. */
  execNoStatus?: boolean;
  /** Every exec into this cluster exits 1 with an error on stderr (the command could not run). */
  execFail?: boolean;
  /** Every port-forward into this cluster is refused (nothing listens on the pod's port). */
  portForwardRefused?: boolean;
}

/** A transport fault as `lab serve --help` and the docs list it. */
export interface LabTransportFaultInfo {
  name: string;
  /** What `=VALUE` holds, when the fault takes one. */
  value?: string;
  description: string;
}

/** Every transport fault `--transport` accepts. */
export const LAB_TRANSPORT_FAULTS: LabTransportFaultInfo[] = [
  { name: 'api-down', description: 'the API server refuses connections (its kubeconfig context stays)' },
  { name: 'latency', value: 'MS', description: 'every API response is delayed by MS milliseconds' },
  { name: 'fail-path', value: 'PATH', description: 'requests to PATH (exact, or /REGEX/) answer HTTP 500' },
  { name: 'forbid', value: 'KIND[,KIND]', description: 'the kubeconfig user gets 403 on these kinds (an RBAC-limited user)' },
  { name: 'exec-hang', description: 'every exec hangs until the client gives up' },
  { name: 'exec-no-status', description: 'every exec closes without an exit status' },
  { name: 'exec-fail', description: 'every exec exits 1 with an error on stderr' },
  { name: 'port-forward-refused', description: 'every port-forward is refused (nothing listens on the port)' },
];

/** Default cluster of a spec without `:CLUSTER`. */
const DEFAULT_CLUSTER = 'cluster1';

/**
 * Parse `NAME[:CLUSTER][=VALUE]` specs into startLab's `transport` option. Throws LabError (exit 2)
 * for an unknown fault, a missing or bad value; cluster names are validated by startLab.
 */
export function parseTransportSpecs(specs: string[]): Record<string, LabTransportOptions> {
  const byCluster: Record<string, LabTransportOptions> = {};
  for (const spec of specs) {
    const match = /^([a-z-]+)(?::([a-z0-9-]+))?(?:=(.*))?$/.exec(spec);
    const info = match && LAB_TRANSPORT_FAULTS.find((f) => f.name === match[1]);
    if (!match || !info) {
      throw new LabError(`invalid --transport "${spec}": use NAME[:CLUSTER][=VALUE] with NAME one of ${LAB_TRANSPORT_FAULTS.map((f) => f.name).join(', ')}`);
    }
    const [, name, cluster = DEFAULT_CLUSTER, value] = match;
    if (info.value && !value) throw new LabError(`--transport ${name} needs a value: ${name}[:CLUSTER]=${info.value}`);
    if (!info.value && value !== undefined) throw new LabError(`--transport ${name} takes no value (got "${value}")`);
    const options = (byCluster[cluster] ??= {});
    switch (name) {
      case 'api-down':
        options.down = true;
        break;
      case 'latency': {
        const ms = Number(value);
        if (!Number.isFinite(ms) || ms < 0) throw new LabError(`--transport latency needs a number of milliseconds, got "${value}"`);
        options.latencyMs = (options.latencyMs ?? 0) + ms;
        break;
      }
      case 'fail-path': {
        if (!value!.startsWith('/')) throw new LabError(`--transport fail-path needs an API path such as /api/v1/pods, got "${value}"`);
        // `/.../` holding a regex metacharacter is a pattern (`/pods$/`); anything else an exact path.
        const pattern = /^\/(.*[\^$.*+?()[\]{}|\\].*)\/$/.exec(value!)?.[1];
        let path: string | RegExp = value!;
        if (pattern !== undefined) {
          try {
            path = new RegExp(pattern);
          } catch (err) {
            throw new LabError(`--transport fail-path: invalid regular expression ${value}: ${(err as Error).message}`);
          }
        }
        (options.failPaths ??= []).push(path);
        break;
      }
      case 'forbid': {
        const kinds = value!.split(',').map((k) => k.trim()).filter(Boolean);
        const unknown = kinds.filter((k) => !(k in RESOURCE_KINDS));
        if (unknown.length || kinds.length === 0) throw new LabError(`--transport forbid: unknown kind "${unknown[0] ?? value}" (kinds: ${Object.keys(RESOURCE_KINDS).join(', ')})`);
        (options.forbidden ??= []).push(...(kinds as ResourceKindName[]));
        break;
      }
      case 'exec-hang':
        options.execHang = true;
        break;
      case 'exec-no-status':
        options.execNoStatus = true;
        break;
      case 'exec-fail':
        options.execFail = true;
        break;
      case 'port-forward-refused':
        options.portForwardRefused = true;
        break;
    }
  }
  return byCluster;
}
