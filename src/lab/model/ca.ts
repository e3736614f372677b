// Real X.509 CA material of the mesh, as Istio's tools/certs makes it: one root, an intermediate per
// cluster, plugged in as the `cacerts` Secret. The certificate faults break it the way people do.
import { generateKeyPairSync } from 'node:crypto';
import { issueCert, type IssuedCert } from '../pki.ts';
import type { ClusterPlan } from './plan.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Subject of the shared root (tools/certs `root-ca`). */
export const ROOT_SUBJECT = 'O=Istio, CN=Root CA';

/** CA material of one cluster. */
export interface ClusterCaMaterial {
  /** The root this cluster's CA chains to (the shared root unless `root-mismatch`; istiod's self-signed root with `cacerts-missing`). */
  root: IssuedCert;
  /** The cluster's signing CA (its intermediate; the self-signed root with `cacerts-missing`). */
  intermediate: IssuedCert;
  /** Keys of the `cacerts` Secret (PEM text), or undefined when the cluster has none. */
  cacerts?: Record<string, string>;
  /** With `cacerts-missing`: the keys of istiod's self-signed `istio-ca-secret`. */
  selfSignedSecret?: Record<string, string>;
  /** An older root left in `sample`'s istio-ca-root-cert (`stale-root-configmap`). */
  staleRootPem?: string;
}

/** The PEM of a fresh RSA private key that belongs to no certificate (`ca-key-mismatch`). */
function unrelatedKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The mesh's CA material: the shared root, and each cluster's material (faults applied). */
export async function buildCaMaterial(plans: ClusterPlan[], now: Date): Promise<{ sharedRoot: IssuedCert; clusters: Map<string, ClusterCaMaterial> }> {
  const t = now.getTime();
  const rootValidity = { notBefore: new Date(t - 30 * DAY_MS), notAfter: new Date(t + 3650 * DAY_MS) };
  const sharedRoot = await issueCert({ subject: ROOT_SUBJECT, isCa: true, keyAlgorithm: 'rsa-2048', ...rootValidity });

  const entries = await Promise.all(
    plans.map(async (plan): Promise<[string, ClusterCaMaterial]> => {
      const has = (fault: string) => plan.faults.has(fault);
      if (has('cacerts-missing')) {
        // istiod's self-signed CA: subject O=<trust domain>, stored in istio-ca-secret.
        const selfSigned = await issueCert({ subject: `O=${plan.trustDomain}`, isCa: true, keyAlgorithm: 'rsa-2048', notBefore: new Date(t - DAY_MS), notAfter: new Date(t + 3650 * DAY_MS) });
        return [
          plan.name,
          {
            root: selfSigned,
            intermediate: selfSigned,
            selfSignedSecret: { 'ca-cert.pem': selfSigned.certPem, 'ca-key.pem': selfSigned.keyPem, 'cert-chain.pem': '', 'key.pem': '', 'root-cert.pem': '' },
          },
        ];
      }
      // A second `root-ca` run: same subject, another key.
      const root = has('root-mismatch') ? await issueCert({ subject: ROOT_SUBJECT, isCa: true, keyAlgorithm: 'rsa-2048', ...rootValidity }) : sharedRoot;
      let validity = { notBefore: new Date(t - 30 * DAY_MS), notAfter: new Date(t + 730 * DAY_MS) };
      if (has('intermediate-expired')) validity = { notBefore: new Date(t - 400 * DAY_MS), notAfter: new Date(t - 5 * DAY_MS) };
      if (has('intermediate-expiring')) validity = { notBefore: new Date(t - 355 * DAY_MS), notAfter: new Date(t + 10 * DAY_MS) };
      const notACa = has('not-a-ca');
      const intermediate = await issueCert({
        subject: `O=Istio, CN=Intermediate CA, L=${plan.name}`,
        issuer: root,
        isCa: !notACa,
        ...(notACa ? {} : { pathLength: 0 }),
        keyAlgorithm: 'rsa-2048',
        dnsNames: [`istiod.istio-system.svc`],
        ...validity,
      });
      const cacerts: Record<string, string> = {
        'ca-cert.pem': intermediate.certPem,
        'ca-key.pem': has('ca-key-mismatch') ? unrelatedKeyPem() : intermediate.keyPem,
        'root-cert.pem': root.certPem,
        'cert-chain.pem': has('chain-wrong-order') ? root.certPem + intermediate.certPem : intermediate.certPem + root.certPem,
      };
      if (has('cacerts-incomplete')) delete cacerts['ca-key.pem'];
      const material: ClusterCaMaterial = { root, intermediate, cacerts };
      if (has('stale-root-configmap')) {
        // The root of an earlier install, rotated out since.
        const stale = await issueCert({ subject: ROOT_SUBJECT, isCa: true, keyAlgorithm: 'rsa-2048', notBefore: new Date(t - 400 * DAY_MS), notAfter: new Date(t + 3250 * DAY_MS) });
        material.staleRootPem = stale.certPem;
      }
      return [plan.name, material];
    }),
  );
  return { sharedRoot, clusters: new Map(entries) };
}
