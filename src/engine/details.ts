// Shapes of the structured data checks attach to their results (`ctx.attach(key, value)`, published
// as `CheckResult.data.<key>`) that the human report's detail renderers draw (src/reporters/details/).
// They live here, between the two, so a reporter never imports a check: whatever a renderer shows,
// thresholds included, travels in the data.
import type { ClusterInfo } from './types.ts';

/** `data.chain` of certificates/chain: the CA chain of a cluster as a tree. */
export interface ChainDetail {
  secret: string;
  form: 'cacerts' | 'tls';
  /** Whether ca-cert reaches a certificate of root-cert.pem. */
  trusted: boolean;
  /** The path from ca-cert up (ca-cert first). */
  path: ChainCertificate[];
  /** root-cert.pem, when the path does not end in it. */
  roots: ChainCertificate[];
}

/** One certificate of the chain tree. */
export interface ChainCertificate {
  role: 'ca-cert' | 'intermediate' | 'root';
  subject: string;
  issuer: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
}

/** `data.topology` of network/topology: networks, their clusters and gateways, and what each control plane sees. */
export interface TopologyPicture {
  networks: {
    /** Network name; `<unknown>` for clusters whose network cannot be told. */
    name: string;
    clusters: {
      name: string;
      clusterId?: string;
      role: ClusterInfo['role'];
      gateways: { kind: 'Service' | 'Gateway'; namespace: string; name: string; addresses: string[]; recognised: boolean }[];
    }[];
  }[];
  /** Per cluster running istiod: the clusters its control plane watches, from /debug/clusterz. */
  controlPlanes: { cluster: string; clusterId?: string; sees: { clusterId: string; status: string }[]; error?: string }[];
}

/** One source -> destination cluster pair as Istio's metrics show it. */
export interface TrafficPair {
  /** Cluster ids (the metrics' source_cluster / destination_cluster labels). */
  source: string;
  destination: string;
  /** Requests per second over the window. */
  requestsPerSecond: number;
  /** Share of 5xx answers (0..1). */
  errorRate: number;
  /** 95th percentile duration in ms; absent when the histogram has no data. */
  p95Ms?: number;
}

/** `data.traffic` of observability/cross-cluster-traffic: the pairs, and the thresholds they were judged by. */
export interface TrafficDetail {
  /** The PromQL rate window, e.g. `5m`. */
  window: string;
  /** Above this share of 5xx answers a pair fails. */
  errorRateThreshold: number;
  /** Above this p95 (ms) a pair is slow. */
  p95ThresholdMs: number;
  pairs: TrafficPair[];
}

/** One istiod revision of one cluster. */
export interface ControlPlaneVersion {
  cluster: string;
  revision: string;
  version: string;
}

/** Proxies of one cluster and revision running one version, and the control plane that serves them. */
export interface ProxyVersionGroup {
  cluster: string;
  revision: string;
  version: string;
  count: number;
  /** `cluster/revision` of the istiod serving them, when known. */
  controlPlane?: string;
  controlPlaneVersion?: string;
}

/** `data.versions` of control-plane/version-skew: the versions seen, for the report header. */
export interface VersionsData {
  controlPlanes: ControlPlaneVersion[];
  proxies: ProxyVersionGroup[];
}
