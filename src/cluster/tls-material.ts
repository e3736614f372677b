// Whether TLS material (a CA bundle, a client certificate and key) can be used at all, in words:
// checked before any request for the operator's kubeconfig (kube-http.ts) and for kubeconfigs read
// from a cluster (untrusted-kubeconfig.ts). Pure: no I/O.
import { createHash } from 'node:crypto';
import type tls from 'node:tls';

/** TLS material already found usable (a digest per combination): checked once, not per request. */
const usableTls = new Set<string>();

/**
 * Why the CA or client certificate/key cannot be used, checked before any request: a garbage
 * client certificate in one kubeconfig user is that cluster's credential problem, found at connect,
 * instead of an OpenSSL error in every check that touches it.
 */
export function tlsMaterialProblem(opts: Pick<tls.SecureContextOptions, 'ca' | 'cert' | 'key'>): string | undefined {
  if (opts.ca === undefined && opts.cert === undefined && opts.key === undefined) return undefined;
  const digest = createHash('sha256');
  for (const part of [opts.ca, opts.cert, opts.key]) digest.update(`${part === undefined ? '' : String(part)}\0`);
  const key = digest.digest('hex');
  if (usableTls.has(key)) return undefined;
  const attempts: [string, tls.SecureContextOptions][] = [
    ['the certificate-authority data', { ca: opts.ca }],
    ['the client certificate', { cert: opts.cert }],
    ['the client certificate and key', { cert: opts.cert, key: opts.key }],
  ];
  // Node's TLS module is loaded when first needed: offline runs (a snapshot's checks import this file) never are.
  const { createSecureContext } = process.getBuiltinModule('node:tls');
  for (const [what, options] of attempts) {
    if (Object.values(options).every((v) => v === undefined)) continue;
    try {
      createSecureContext(options);
    } catch (err) {
      return `${what} cannot be used: ${tlsProblem(err)}`;
    }
  }
  usableTls.add(key);
  return undefined;
}

/** OpenSSL's reason in words, without its library prefix. */
function tlsProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_OSSL_PEM_NO_START_LINE' || /no start line/i.test(String((err as Error)?.message))) return 'not PEM data';
  if (/KEY_VALUES_MISMATCH/.test(code)) return 'the key does not belong to the certificate';
  if (/BAD_BASE64|BAD_END_LINE|ASN1|NESTED_ASN1/.test(code)) return 'damaged PEM data';
  return code ? `unreadable (${code})` : 'unreadable';
}
