// Parser of istiod's /debug/networkz: the network gateways istiod knows (pilot/pkg/xds/debug.go,
// `NetworkManager.AllGateways()`, a JSON array of model.NetworkGateway whose Go fields have no json
// tags, so keys are capitalised). Accepts every shape seen since the endpoint appeared: the
// four-field form (Network, Cluster, Addr, Port), the later one with HBONEPort and ServiceAccount,
// lower-case keys from hand-made captures, and `null` (a nil slice: no gateway at all).

import { parseDebugJson } from './json.ts';

/** One network gateway as istiod sees it. */
export interface NetworkzGateway {
  /** Network the gateway serves. */
  network: string;
  /** Cluster id (registry) the gateway was discovered in; '' for meshNetworks addresses without a registry. */
  cluster: string;
  /** IP istiod sends cross-network traffic to (a load balancer hostname is resolved by istiod). */
  address: string;
  /** Port on that address (15443, the gatewayPort label, or a NodePort). */
  port: number;
  /** HBONE port, 0 when the gateway does not do HBONE (ambient). */
  hbonePort: number;
}

/** Why a body is not a networkz answer at all (old istiod without the endpoint). */
export class NetworkzUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkzUnavailable';
  }
}

/**
 * Parse a /debug/networkz body. Throws NetworkzUnavailable for a 404 text (istiod too old to
 * serve it) and an Error naming what is wrong for any other shape it cannot read.
 */
export function parseNetworkz(body: string): NetworkzGateway[] {
  const text = body.trim();
  if (/^404\b|page not found/i.test(text)) throw new NetworkzUnavailable('istiod does not serve /debug/networkz (Istio before 1.12)');
  const value = parseDebugJson(text, '/debug/networkz');
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error(`/debug/networkz is not a JSON array (got ${typeof value})`);
  return value.map((entry, index) => parseEntry(entry, index));
}

function parseEntry(entry: unknown, index: number): NetworkzGateway {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`/debug/networkz entry ${index} is not an object`);
  const record = entry as Record<string, unknown>;
  const field = (name: string): unknown => record[name] ?? record[name.charAt(0).toLowerCase() + name.slice(1)];
  const network = field('Network');
  const address = field('Addr') ?? field('Address');
  const port = field('Port');
  if (typeof network !== 'string' || typeof address !== 'string' || typeof port !== 'number') {
    throw new Error(`/debug/networkz entry ${index} lacks Network/Addr/Port (keys: ${Object.keys(record).join(', ') || 'none'})`);
  }
  const cluster = field('Cluster');
  const hbonePort = field('HBONEPort');
  return {
    network,
    cluster: typeof cluster === 'string' ? cluster : '',
    address,
    port,
    hbonePort: typeof hbonePort === 'number' ? hbonePort : 0,
  };
}
