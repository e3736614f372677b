// Redaction of what a snapshot stores: a snapshot gets attached to tickets, so it must never hold a
// private key or a bearer token, yet key-match and token-expiry checks must still work offline.
// Hence `REDACTED spki-sha256=<hex>` for private keys and `REDACTED jwt-claims=<payload>` for JWTs.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { KubeObject } from './types.ts';
import { CONFIG_SECRET_KEY, CONFIG_SECRET_NAME, MULTICLUSTER_SECRET_LABEL } from '../mesh/remote-secrets.ts';

/** The value stored in place of a secret. */
export const REDACTED = 'REDACTED';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/;
const CERTIFICATE_KEY = /(^|[-_.])(cert|crt)(\.pem)?$|^cert-chain\.pem$|^root-cert\.pem$|^ca\.crt$|^tls\.crt$/;

/** What a redacted value still tells: the fingerprint of a private key, or the claims of a JWT. */
export interface RedactedInfo {
  spkiSha256?: string;
  jwtClaims?: Record<string, unknown>;
}

/** Whether a stored secret value was redacted by a snapshot writer (or by hand). */
export function isRedacted(value: string | undefined): boolean {
  return value === REDACTED || (value?.startsWith(`${REDACTED} `) ?? false);
}

/** The information kept in a redacted value, or undefined when the value is not redacted. */
export function parseRedacted(value: string | undefined): RedactedInfo | undefined {
  if (!value || !isRedacted(value)) return undefined;
  const info: RedactedInfo = {};
  const spki = /\bspki-sha256=([0-9a-f]{64})\b/.exec(value);
  if (spki) info.spkiSha256 = spki[1];
  const claims = /\bjwt-claims=([A-Za-z0-9_-]+)/.exec(value);
  if (claims) {
    try {
      info.jwtClaims = JSON.parse(Buffer.from(claims[1], 'base64url').toString('utf8'));
    } catch {
      // A hand-edited value: the claims are just unavailable.
    }
  }
  return info;
}

/**
 * Hex SHA-256 of the DER SubjectPublicKeyInfo of the first PEM private key in `pem`
 * (PKCS#8, PKCS#1 or SEC1), or undefined when none parses. Checks compare it with a certificate's key.
 */
export function privateKeySpkiSha256(pem: string): string | undefined {
  const block = PRIVATE_KEY_PEM.exec(pem)?.[0];
  if (!block) return undefined;
  try {
    const spki = createPublicKey(createPrivateKey(block)).export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('hex');
  } catch {
    return undefined;
  }
}

/** Hex SHA-256 of the DER SubjectPublicKeyInfo of a PEM certificate's or public key's key. */
export function publicKeySpkiSha256(pem: string): string | undefined {
  try {
    const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('hex');
  } catch {
    return undefined;
  }
}

/** A private key's replacement: its fingerprint survives, the key does not. */
export function redactPrivateKey(pem: string): string {
  const fingerprint = privateKeySpkiSha256(pem);
  return fingerprint ? `${REDACTED} spki-sha256=${fingerprint}` : REDACTED;
}

/** A bearer token's replacement: a JWT keeps its claims (exp, sub, iss), never its signature. */
export function redactToken(token: string): string {
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      if (typeof claims === 'object' && claims !== null) return `${REDACTED} jwt-claims=${parts[1]}`;
    } catch {
      // Not a JWT.
    }
  }
  return REDACTED;
}

/**
 * A copy of an object safe to store: no last-applied annotation (it repeats the whole object, Secret
 * data included), no managedFields, and for Secrets every value redacted but certificates, key
 * fingerprints and the non-secret parts of remote-secret kubeconfigs.
 */
export function redactObject(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  delete copy.metadata.managedFields;
  if (copy.metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _dropped, ...rest } = copy.metadata.annotations;
    copy.metadata.annotations = rest;
  }
  if (copy.kind === 'Secret') {
    // Kubeconfigs istiod reads (what findRemoteSecrets finds: every key of a remote secret, `config`
    // of istio-kubeconfig) keep server and CA, so remote-secret checks still judge them offline.
    const isRemoteSecret = copy.metadata.labels?.[MULTICLUSTER_SECRET_LABEL] === 'true';
    const isConfigSecret = copy.metadata.name === CONFIG_SECRET_NAME;
    if (copy.data && typeof copy.data === 'object') {
      for (const key of Object.keys(copy.data)) {
        copy.data[key] = redactSecretValue(key, String(copy.data[key]), isRemoteSecret || (isConfigSecret && key === CONFIG_SECRET_KEY));
      }
    }
    // stringData is never served by the API, but a hand-made dump may carry it.
    if (copy.stringData && typeof copy.stringData === 'object') {
      for (const key of Object.keys(copy.stringData)) copy.stringData[key] = REDACTED;
    }
  }
  return copy;
}

/** Redact one base64 `data` value of a Secret. */
function redactSecretValue(key: string, base64: string, isRemoteSecret: boolean): string {
  if (isRedacted(base64)) return base64;
  const text = Buffer.from(base64, 'base64').toString('utf8');
  if (PRIVATE_KEY_PEM.test(text)) return redactPrivateKey(text);
  if (isRemoteSecret) {
    const kubeconfig = redactKubeconfig(text);
    return kubeconfig === undefined ? REDACTED : Buffer.from(kubeconfig, 'utf8').toString('base64');
  }
  if (CERTIFICATE_KEY.test(key) && text.includes('-----BEGIN CERTIFICATE-----')) return base64;
  return REDACTED;
}

/**
 * A remote secret's kubeconfig with every credential replaced (token, password, client key,
 * auth-provider and exec secrets); servers and CA data stay so topology checks still work.
 * undefined when the text is not a kubeconfig.
 */
export function redactKubeconfig(text: string): string | undefined {
  let config: unknown;
  try {
    config = parseYaml(text);
  } catch {
    return undefined;
  }
  if (typeof config !== 'object' || config === null || !Array.isArray((config as { users?: unknown }).users)) return undefined;
  for (const entry of (config as { users: { user?: Record<string, unknown> }[] }).users) {
    const user = entry?.user;
    if (!user || typeof user !== 'object') continue;
    if (typeof user.token === 'string') user.token = redactToken(user.token);
    if (typeof user.password === 'string') user.password = REDACTED;
    if (typeof user['client-key-data'] === 'string') {
      user['client-key-data'] = redactPrivateKey(Buffer.from(user['client-key-data'], 'base64').toString('utf8'));
    }
    const provider = user['auth-provider'] as { config?: Record<string, unknown> } | undefined;
    if (provider?.config) for (const k of Object.keys(provider.config)) provider.config[k] = REDACTED;
    const exec = user.exec as { env?: { name: string; value: string }[] } | undefined;
    if (Array.isArray(exec?.env)) for (const e of exec.env) e.value = REDACTED;
  }
  return stringifyYaml(config);
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g;
/** A JWT (three base64url parts, the first a JSON header `{"`). */
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
/** `Bearer <token>`, `token: <x>`, `token=<x>`, `"token":"<x>"` as log lines print credentials. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const TOKEN_FIELD = /(\b(?:token|password|client-key-data|client-certificate-data|certificate-authority-data)"?\s*[:=]\s*"?)[^\s",}]+/gi;

/**
 * A log text safe to store: every PEM block (certificates too: a log is no place to judge them, and
 * some print chains next to keys), every JWT, bearer token and credential field replaced by REDACTED.
 */
export function redactLogText(text: string): string {
  return text
    .replace(PEM_BLOCK, REDACTED)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(TOKEN_FIELD, (_m, prefix: string) => `${prefix}${REDACTED}`);
}

/** True when text contains something that must never be written: a PEM private key. */
export function containsPrivateKey(text: string): boolean {
  return PRIVATE_KEY_PEM.test(text);
}
