// Real CA material for certificate check tests, issued with the lab's PKI (real keys, PKCS#8 PEM),
// and helpers to plug it into an editable fixture.
import { createPrivateKey } from 'node:crypto';
import { issueCert, type IssueOptions, type IssuedCert } from '../../../src/lab/pki.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import type { Check } from '../../../src/engine/types.ts';
import { objectNamed, type CheckRun, type ClusterObjects } from '../helpers.ts';

export const b64 = (text: string): string => Buffer.from(text).toString('base64');
export const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2030-01-01T00:00:00Z');

/** A root and an intermediate under it, both real (ECDSA unless told). */
export async function rootAndIntermediate(intermediate: Partial<IssueOptions> = {}, root: Partial<IssueOptions> = {}): Promise<{ root: IssuedCert; ca: IssuedCert }> {
  const rootCert = await issueCert({ subject: 'O=Test, CN=Root CA', isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, ...root });
  const ca = await issueCert({ subject: 'O=Test, CN=Cluster CA', issuer: rootCert, isCa: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, ...intermediate });
  return { root: rootCert, ca };
}

/** cacerts data (plain text values) in Istio's layout, with the private key in the format asked. */
export function cacertsData(root: IssuedCert, ca: IssuedCert, keyFormat: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8'): Record<string, string> {
  const key = keyFormat === 'pkcs8' ? ca.keyPem : createPrivateKey(ca.keyPem).export({ type: keyFormat, format: 'pem' }).toString();
  return { 'ca-cert.pem': ca.certPem, 'ca-key.pem': key, 'root-cert.pem': root.certPem, 'cert-chain.pem': ca.certPem + root.certPem };
}

/** Replace the data of a cluster's cacerts Secret (values as plain text; base64-encoded here). */
export function setCacerts(objects: Map<string, ClusterObjects>, cluster: string, data: Record<string, string>): KubeObject {
  const secret = objectNamed(objects, cluster, 'secrets', 'cacerts');
  secret.data = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.startsWith('REDACTED') ? v : b64(v)]));
  return secret;
}

/** The plain-text value of a fixture Secret key. */
export function secretValue(secret: KubeObject, key: string): string {
  return Buffer.from(secret.data[key], 'base64').toString('utf8');
}

/** [checkId, messageId, cluster, effective severity] of every finding, as the engine reports it. */
export function findingTuples(check: Check, runs: CheckRun[]): [string, string, string | undefined, string][] {
  return runs.flatMap((r) => r.findings.map((f): [string, string, string | undefined, string] => [check.id, f.messageId, f.cluster, f.severity]));
}

/** Make a cluster's istiod run `version` (the image tag topology reads). */
export function setIstioVersion(objects: Map<string, ClusterObjects>, cluster: string, version: string): void {
  for (const deployment of objects.get(cluster)?.deployments ?? []) {
    for (const container of deployment.spec?.template?.spec?.containers ?? []) {
      if (typeof container.image === 'string') container.image = container.image.replace(/\/pilot:[^@\s]+/, `/pilot:${version}`);
    }
  }
}
