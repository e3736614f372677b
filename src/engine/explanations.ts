// Explanations that several checks' messages declare (meta.messages[...].explainedBy): one place, so
// that the same fault explains the same consequences everywhere. See src/engine/root-causes.ts.
import type { Explanation } from './types.ts';

/**
 * A cluster on another root of trust, or on another trust domain that no alias covers, breaks mTLS
 * with every other cluster, in both directions (CERTIFICATE_VERIFY_FAILED, or a SAN peers do not
 * expect): the mismatch explains failures about any cluster of the mesh.
 */
export const BY_BROKEN_TRUST = [
  { check: 'certificates/shared-root', messages: ['rootMismatch'], when: 'mesh' },
  // A cluster on another trust domain without aliases: peers reject the SAN of its workloads (istio#39204), whatever the roots.
  { check: 'control-plane/mesh-config', messages: ['trustDomainMismatch'], when: 'mesh' },
] as const satisfies readonly Explanation[];

/** Cross-network Gateway faults that break requests through its 15443 (a 503 "connection termination" or a reset). */
const GATEWAY_FAULTS = ['crossNetworkGatewayMissing', 'crossNetworkGatewayIstioMutual', 'crossNetworkGatewaySimple'] as const;

/**
 * The serving cluster's cross-network Gateway: missing, or terminating TLS (ISTIO_MUTUAL, SIMPLE)
 * instead of AUTO_PASSTHROUGH. `cluster`: the finding concerns the cluster that serves.
 */
export const BY_GATEWAY_HERE = [{ check: 'network/cross-network-gateway', messages: GATEWAY_FAULTS, when: 'cluster' }] as const satisfies readonly Explanation[];

/** The same gateway faults for findings that name the calling cluster (traffic metrics): anywhere in the mesh. */
export const BY_GATEWAY_ANYWHERE = [{ check: 'network/cross-network-gateway', messages: GATEWAY_FAULTS, when: 'mesh' }] as const satisfies readonly Explanation[];

/**
 * A primary's view of a peer comes from the peer's remote secret: a missing or broken secret, or
 * credentials the peer's API rejects, leave istiod without the peer's services and endpoints.
 * `cluster`: these findings concern the primary that reads the secret.
 */
export const BY_REMOTE_SECRET = [
  { check: 'control-plane/remote-secrets', messages: ['noRemoteSecret', 'keyNotClusterId', 'keyIsLocalId', 'kubeconfigInvalid', 'kubeconfigDisallowed', 'tokenExpired', 'caFileUnreadable'], when: 'cluster' },
  { check: 'control-plane/remote-api-access', messages: ['peerUnreachable', 'credentialsRejected', 'accessDenied'], when: 'cluster' },
] as const satisfies readonly Explanation[];

/** istiod's own account of a peer it has not synced (the step after the secret), same cluster. */
export const BY_REMOTE_SYNC = [{ check: 'control-plane/remote-sync', messages: ['peerMissing', 'peerNotSynced'], when: 'cluster' }] as const satisfies readonly Explanation[];
