// A kubeconfig read from a cluster (an Istio remote secret, an external control plane's
// istio-kubeconfig, a snapshot) is data written by whoever can create a Secret there. It never acts
// on the machine meshdoctor runs on: no exec or auth-provider plugin runs, no file it names is read
// (token files, client certificates and keys, CA files), no proxy it names is used, and the
// operator's own proxy settings (HTTPS_PROXY, NODE_USE_ENV_PROXY) are not applied to it either:
// they hold the operator's network and proxy credentials, which a Secret must not be able to aim at
// a host of its choosing. What is left is inline data only: the server, inline CA, inline token,
// inline client certificate and key. Anything else needed to connect makes the kubeconfig refused,
// with the reason, so its peer is "not probed" rather than probed as someone else.
//
// This module is the one place that rule lives: discovery (connect.ts), the remote API probe
// (remote-probe.ts) and the remote-api-access check all go through loadUntrustedKubeconfig, and
// kube-http.ts connects such an endpoint from its InlineCredentials only, directly. Where such an
// endpoint may connect (never to the operator's own machine or its metadata service) is
// local-address.ts.
import { X509Certificate } from 'node:crypto';
import type { LocalAddressAllowance } from './local-address.ts';
import { tlsMaterialProblem } from './tls-material.ts';
import { parseRemoteKubeconfig, RemoteKubeconfigError, type RemoteKubeconfig } from '../mesh/remote-secrets.ts';

/** Everything meshdoctor uses to reach an API server named by cluster data: inline values only. */
export interface InlineCredentials {
  /** API server URL (http or https), no trailing slash. */
  server: string;
  /** PEM from `certificate-authority-data`; without it the system roots verify the server. */
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** Inline bearer token (`token`). */
  token?: string;
  /** PEM from `client-certificate-data` and `client-key-data` (both or neither). */
  clientCertPem?: string;
  clientKeyPem?: string;
  /**
   * Local addresses (loopback, unspecified, link-local: local-address.ts) this endpoint may connect
   * to. Never read from the kubeconfig: loadUntrustedKubeconfig leaves it unset, and only the code
   * that decides (the lab, --allow-loopback-remote-secrets, a server of the operator's own
   * kubeconfig) sets it. Unset, such a server is refused by name and at DNS resolution.
   */
  allowLocal?: LocalAddressAllowance;
}

/** The verdict on a kubeconfig from cluster data. */
export type UntrustedKubeconfig =
  | { ok: true; credentials: InlineCredentials }
  /** `server` when the kubeconfig names a usable one (a kubeconfig context of the operator may match it). */
  | { ok: false; reason: string; server?: string };

/** Fields whose use would run a program, read a local file or pick a proxy, by where they live. */
const UNSAFE_USER_FIELDS = ['exec', 'auth-provider', 'token-file', 'tokenFile', 'client-certificate', 'client-key'] as const;
const UNSAFE_CLUSTER_FIELDS = ['certificate-authority', 'proxy-url'] as const;
/** Fields meshdoctor does not implement for cluster data: using the kubeconfig without them would probe as someone else. */
const UNSUPPORTED_USER_FIELDS = ['username', 'password', 'as', 'as-uid', 'as-groups', 'as-user-extra'] as const;

/**
 * Decide whether a kubeconfig from cluster data can be used, and if so reduce it to inline
 * credentials (istiod's rule: the current context's cluster and user). Never throws, never touches
 * the file system or the network.
 */
export function loadUntrustedKubeconfig(text: string | undefined): UntrustedKubeconfig {
  let parsed: RemoteKubeconfig;
  try {
    parsed = parseRemoteKubeconfig(text ?? '');
  } catch (err) {
    if (err instanceof RemoteKubeconfigError) return { ok: false, reason: `unusable kubeconfig: ${err.message}` };
    throw err;
  }
  const cluster = parsed.clusterFields;
  const user = parsed.userFields;
  const server = usableServer(parsed.server);
  const refuse = (reason: string): UntrustedKubeconfig => ({ ok: false, reason, ...(server ? { server } : {}) });

  const unsafe = [
    ...UNSAFE_USER_FIELDS.filter((field) => present(user[field])).map((field) => (field === 'auth-provider' ? `auth-provider ${providerName(user[field])}`.trim() : field)),
    ...UNSAFE_CLUSTER_FIELDS.filter((field) => present(cluster[field])),
  ];
  if (unsafe.length) return refuse(`the kubeconfig uses ${unsafe.join(', ')}: meshdoctor never runs a program, reads a local file or uses a proxy named by cluster data`);
  const unsupported = UNSUPPORTED_USER_FIELDS.filter((field) => present(user[field]));
  if (unsupported.length) return refuse(`the kubeconfig uses ${unsupported.join(', ')}, which meshdoctor does not support for cluster data`);
  // The text as it is: whoever prints it escapes it (terminalText), JSON keeps it faithful.
  if (!server) return refuse(`its server "${parsed.server}" is not an http(s) URL`);

  const credentials: InlineCredentials = { server };
  const caPem = pemField(cluster['certificate-authority-data']);
  if (caPem !== undefined) credentials.caPem = caPem;
  if (cluster['insecure-skip-tls-verify'] === true) credentials.insecureSkipTlsVerify = true;
  if (typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name']) credentials.tlsServerName = cluster['tls-server-name'];
  if (present(user.token)) {
    // Sent as a header: anything but visible ASCII would be a header injection or a Node error.
    if (typeof user.token !== 'string' || !/^[\x21-\x7e]+$/.test(user.token)) return refuse('its token is not a valid bearer token (spaces or control characters)');
    credentials.token = user.token;
  }
  const certPem = pemField(user['client-certificate-data']);
  const keyPem = pemField(user['client-key-data']);
  if ((certPem === undefined) !== (keyPem === undefined)) return refuse('it has client-certificate-data without client-key-data, or the reverse');
  if (certPem !== undefined && keyPem !== undefined) {
    credentials.clientCertPem = certPem;
    credentials.clientKeyPem = keyPem;
  }
  // Garbage PEM would otherwise fail every request later with OpenSSL's words (a CA bundle without
  // one certificate is not even an error to OpenSSL: nothing would be trusted).
  if (credentials.caPem !== undefined && !hasCertificate(credentials.caPem)) return refuse('its certificate-authority-data holds no PEM certificate');
  const tlsProblem = tlsMaterialProblem({ ca: credentials.caPem, cert: credentials.clientCertPem, key: credentials.clientKeyPem });
  if (tlsProblem) return refuse(`its ${tlsProblem.replace(/^the /, '')}`);
  return { ok: true, credentials };
}

function hasCertificate(pem: string): boolean {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)?.[0];
  try {
    return block !== undefined && Boolean(new X509Certificate(block));
  } catch {
    return false;
  }
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function providerName(provider: unknown): string {
  const name = (provider as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && /^[\w.-]{1,64}$/.test(name) ? name : '';
}

function pemField(value: unknown): string | undefined {
  return typeof value === 'string' && value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

/**
 * The server URL without trailing slash, when it is one meshdoctor will connect to: http(s), no
 * credentials in it, and only visible ASCII (URL parsing would quietly drop control characters and
 * connect somewhere the text does not show). A path is a prefix of every request (a proxy in front of
 * the API server); a query or fragment is dropped, as client-go, and so istiod, drops them: its
 * Request.URL replaces the base URL's RawQuery with the request's own (k8s.io/client-go v0.36.3
 * rest/request.go:551-581, URL()). Appending request paths to the text as written would instead have put them
 * into the query, sending meshdoctor's requests to whatever path the Secret's author chose.
 */
function usableServer(server: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(server)) return undefined;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || !url.hostname) return undefined;
  if (!url.search && !url.hash && !server.includes('?') && !server.includes('#')) return server.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, '');
}
