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

/**
 * East-west gateway faults that leave istiod with no usable gateway for the cluster's network: istiod
 * takes a gateway from a Service labelled with the network, on its gateway port (15443), at its
 * published address (load balancer ingress, externalIPs, node ExternalIPs of a NodePort); without one
 * of these it lists no gateway for that network (networkz) and gives proxies on other networks none
 * of its endpoints. `cluster`: the finding concerns the cluster of the gateway (the serving cluster).
 */
export const BY_GATEWAY_UNPUBLISHED_HERE = [
  {
    check: 'network/eastwest-gateway',
    messages: ['ewgwMissing', 'ewgwLbPending', 'ewgwNoAddress', 'ewgwNodePortNoSelector', 'ewgwNodePortNoExternalIp', 'ewgwNo15443', 'ewgwNetworkLabelMissing', 'ewgwGatewayNoAddress', 'ewgwGatewayNoAutoPassthrough'],
    when: 'cluster',
  },
  // The same absence, as the mesh-wide check states it for the network's clusters.
  { check: 'network/topology', messages: ['networkWithoutGateway'], when: 'cluster' },
] as const satisfies readonly Explanation[];

/**
 * Faults that make the cluster's east-west gateway refuse or drop connections on 15443 while istiod
 * may still publish it: no ready pods behind the Service, no 15443 on the Service, a NetworkPolicy
 * that denies 15443 to the gateway pods. `cluster`: the cluster of the gateway.
 */
export const BY_GATEWAY_UNREACHABLE_HERE = [
  { check: 'network/eastwest-gateway', messages: ['ewgwNotReady', 'ewgwGatewayNotProgrammed', 'ewgwNo15443'], when: 'cluster' },
  { check: 'network/policies', messages: ['policyBlocksGateway'], when: 'cluster' },
] as const satisfies readonly Explanation[];

/**
 * Everything on the path from another network into the serving cluster's east-west gateway: the
 * gateway faults above, and the TCP probe to its 15443 failing (a firewall or load balancer dropping
 * what the objects allow). A request served by that cluster from another network goes through that
 * gateway, so it times out, is refused (503 "upstream connect error") or gets no endpoint at all.
 */
export const BY_EASTWEST_PATH_HERE = [
  ...BY_GATEWAY_UNPUBLISHED_HERE,
  ...BY_GATEWAY_UNREACHABLE_HERE,
  { check: 'connectivity/gateway-reachability', messages: ['gatewayUnreachable', 'gatewayNoAddress'], when: 'cluster' },
] as const satisfies readonly Explanation[];

/**
 * The caller's istiod without the serving cluster: in a multi-primary mesh a sidecar gets its
 * endpoints from its own cluster's istiod, which has a peer's endpoints only through that peer's
 * remote secret, credentials and sync. `peer-view`: the finding concerns the serving cluster and
 * names the caller as its peer; the explaining finding is the caller's, about that serving cluster.
 */
export const BY_CALLERS_VIEW = [
  { check: 'control-plane/remote-secrets', messages: BY_REMOTE_SECRET[0].messages, when: 'peer-view' },
  { check: 'control-plane/remote-api-access', messages: BY_REMOTE_SECRET[1].messages, when: 'peer-view' },
  { check: 'control-plane/remote-sync', messages: BY_REMOTE_SYNC[0].messages, when: 'peer-view' },
] as const satisfies readonly Explanation[];

/**
 * A cluster whose network cannot be told: its endpoints and proxies have no network, and istiod
 * takes an empty network as the same as any (Proxy.InNetwork is true when either side is unset), so
 * between that cluster and every other network requests go straight to pod IPs that do not route:
 * both directions time out or cannot connect. `peer-pair`: the failure's serving cluster or caller
 * is that cluster.
 */
export const BY_NETWORK_UNKNOWN = [{ check: 'network/topology', messages: ['networkUnknown'], when: 'peer-pair' }] as const satisfies readonly Explanation[];

/**
 * The service's port numbers differ between clusters: a cluster's endpoints serve the ports of its
 * own definition, so callers of the other port get none of them, and a caller whose local Service
 * lacks the port reaches a ClusterIP port nothing serves. `service`: the same service, on the
 * cluster whose definition differs.
 */
export const BY_SERVICE_PORTS = [{ check: 'services/consistency', messages: ['servicePortsMismatch'], when: 'service' }] as const satisfies readonly Explanation[];

/**
 * The serving cluster's endpoints of the service run without a sidecar: across networks the
 * east-west gateway passes the caller's mTLS through (AUTO_PASSTHROUGH) to a plaintext application,
 * which cannot read it (a reset, Envoy's 503). `service`: the same service, on the serving cluster.
 */
export const BY_UNINJECTED_ENDPOINTS = [{ check: 'services/endpoints', messages: ['uninjectedRemoteEndpoint'], when: 'service' }] as const satisfies readonly Explanation[];

/**
 * An external control plane that cannot configure the mesh: its istiod without Secret
 * istio-kubeconfig (or with one for the wrong cluster) reads its own cluster as the config cluster,
 * so the config cluster's services, endpoints and gateways vanish from every proxy's view; without
 * EXTERNAL_ISTIOD=true it reads remote secrets from the config cluster instead of its own namespace
 * and leads no other remote (istio/istio 86c9f01 pkg/kube/multicluster/secretcontroller.go:135,
 * pilot/pkg/serviceregistry/kube/controller/multicluster.go:385-413). One istiod serves every
 * cluster, so its findings explain what goes wrong anywhere in the mesh.
 */
export const BY_EXTERNAL_CONTROL_PLANE = [
  { check: 'control-plane/remote-secrets', messages: ['configKubeconfigMissing', 'configKubeconfigWrongCluster'], when: 'mesh' },
  { check: 'control-plane/primary-remote', messages: ['externalIstiodOff'], when: 'mesh' },
] as const satisfies readonly Explanation[];

/**
 * The serving cluster's ambient east-west gateway (class istio-east-west) missing, unprogrammed or
 * without an address, and istiod without multi-network (which leaves the class unregistered): peers'
 * ztunnels have no way into that network. `cluster`: the gateway's cluster.
 */
export const BY_AMBIENT_GATEWAY_HERE = [
  { check: 'ambient/eastwest-gateway', messages: ['ewgwMissing', 'noAddress', 'noHboneListener', 'networkLabelMissing', 'networkMismatch', 'gatewayClassMissing', 'notProgrammed'], when: 'cluster' },
  { check: 'ambient/multi-network', messages: ['multiNetworkOff', 'ambientOff'], when: 'cluster' },
] as const satisfies readonly Explanation[];

/**
 * The calling cluster's ztunnel refused by istiod (a cluster id or network that is not the
 * cluster's), missing or not ready, or istiod without ambient: an ambient pod's connections there go
 * nowhere (reset, refused). `cluster`: the caller, which such findings name when no serving cluster is known.
 */
export const BY_AMBIENT_CLIENT_HERE = [
  { check: 'ambient/multi-network', messages: ['ztunnelClusterIdMismatch', 'ztunnelNetworkMismatch', 'ztunnelNotReady', 'ztunnelMissing', 'ambientOff'], when: 'cluster' },
] as const satisfies readonly Explanation[];
