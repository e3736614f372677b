// Contracts between the lab's three parts:
//   model/  builds a mesh's state (objects, users, faults) from a scenario           -> LabMeshState
//   sim/    derives what real Istio would serve from that state (lists, exec, debug)  -> LabBackend
//   server/ speaks the Kubernetes REST + WebSocket API over HTTPS for one backend      -> LabApiServer
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, ResourceKindName, ExecResult } from '../cluster/types.ts';
import type { IssuedCert } from './pki.ts';

/** A fault injected by name, optionally on one cluster (`root-mismatch:cluster2`). */
export interface LabFault {
  name: string;
  cluster?: string;
}

/** Who a bearer token belongs to, and what it may not read. */
export interface LabUser {
  /** Username as the audit log shows it, e.g. `system:serviceaccount:istio-system:istio-reader-service-account`. */
  name: string;
  groups: string[];
  /** Kinds this user gets 403 on (an RBAC-limited user). */
  forbidden?: ResourceKindName[];
  /** Kinds this user may only read in these namespaces (others: 403). */
  namespaces?: string[];
}

/** Where a simulated API server listens and how to trust it. */
export interface LabEndpoint {
  cluster: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
}

/** State of one simulated cluster: everything the API serves derives from it. */
export interface LabClusterState {
  name: string;
  endpoint: LabEndpoint;
  /** Every object of the cluster (all kinds). */
  objects: KubeObject[];
  /** bearer token -> user. */
  users: Map<string, LabUser>;
  /** Token of the cluster-admin user written to the lab kubeconfig. */
  adminToken: string;
  /**
   * The cluster's own Istio CA (from model/): `intermediate` is what its `cacerts` plugs in (istiod's
   * self-signed root with `cacerts-missing`), `root` the root it chains to. A remote of primary-remote
   * has material too, but its workloads are signed by its control-plane cluster's CA.
   */
  ca?: { root: IssuedCert; intermediate: IssuedCert };
}

/** A whole simulated mesh. */
export interface LabMeshState {
  scenario: string;
  faults: LabFault[];
  clusters: LabClusterState[];
  /** Time the state was built (by `clock`); object timestamps and CA validity derive from it. */
  createdAt: Date;
  /**
   * The mesh's clock: workload certificates, token expiry, uptimes and metric timestamps of the sim
   * read it. The wall clock by default; a test pins it (the lab's TLS serving certificates stay on the
   * real clock: kubectl verifies them).
   */
  clock: () => Date;
}

/** What exec in the lab can do besides returning a result (transport faults). */
export type LabExecOutcome = ExecResult | { hang: true } | { closeWithoutStatus: true; stdout?: string };

/** A request to run a command in a container of a pod (already validated to exist). */
export interface LabExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  user: LabUser;
  stdin?: string;
}

/** The per-cluster behaviour behind a LabApiServer. */
export interface LabBackend {
  readonly cluster: string;
  /** The user of a bearer token, or undefined (401). */
  authenticate(token: string): LabUser | undefined;
  /**
   * All objects of a kind across namespaces; the server filters, sorts and paginates. The server
   * keeps what it derives from a list (its order, each object's JSON) for as long as the same array
   * is handed out: a change must hand out a new array, never change the array or its objects in place.
   */
  list(kind: ResourceKindName): KubeObject[];
  /** Run a command in a container. */
  exec(req: LabExecRequest): Promise<LabExecOutcome>;
  /**
   * An HTTP handler serving what a pod listens on at `port` (istiod's 15014 debug endpoints), for
   * port-forward; undefined when nothing listens there (the forward reports an error).
   */
  portForward(namespace: string, pod: string, port: number): ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /**
   * The lines a container has logged, oldest first, each starting with its RFC 3339 time; with
   * `sinceSeconds`, only those of that many seconds before the mesh's clock.
   */
  log?(namespace: string, pod: string, container: string, sinceSeconds?: number): string[];
}

/** Transport faults of one API server, for reliability tests. */
export interface LabTransportFaults {
  /** Delay added to every response. */
  latencyMs?: number;
  /** Requests whose path (without query) matches answer HTTP 500 with a Status body. */
  failPaths?: (string | RegExp)[];
  /** Every port-forward is refused as the kubelet refuses one to a port nothing listens on. */
  portForwardRefused?: boolean;
}

/** One audited API request. */
export interface AuditEntry {
  time: string;
  cluster: string;
  method: string;
  /** Path with query string. */
  path: string;
  /** Username, or `system:anonymous` when no valid token was presented. */
  user: string;
  status: number;
  /** `get`, `list`, `create`, `exec`, `portforward`, `proxy`, `discovery`, ... */
  verb: string;
  /** The client's User-Agent header (empty when it sent none), as in Kubernetes audit events. */
  userAgent: string;
}

/** A running simulated API server. */
export interface LabApiServer {
  readonly cluster: string;
  readonly endpoint: LabEndpoint;
  /** Attach (or replace) the backend; requests before that answer 503. */
  setBackend(backend: LabBackend): void;
  readonly audit: AuditEntry[];
  /** Plain HTTP requests received so far, answered or not (the audit holds answered ones only). */
  readonly received: number;
  setTransportFaults(faults: LabTransportFaults): void;
  stop(): Promise<void>;
}
