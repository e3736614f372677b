// Encodes https://istio.io/latest/docs/ops/configuration/security/root-transition/ and the plug-in CA procedure (https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/).
import { defineCheck } from '../../engine/define-check.ts';
import type { ResourceRef } from '../../engine/types.ts';
import {
  CACERTS_SECRET,
  ROOT_CERT_CONFIGMAP,
  SELF_SIGNED_CA_SECRET,
  caSecretMaterial,
  listInNamespace,
  parseCaMaterial,
  parsePemCertificates,
  secretText,
  type CertificateFacts,
} from '../../mesh/certificates.ts';
import { isSelfIssued, validateChain } from '../../mesh/x509-validate.ts';
import { controlledElsewhere } from '../../mesh/roles.ts';

const DAY_MS = 24 * 3600 * 1000;

/** A certificate of the cluster's CA material, with the part it plays. */
interface CaCertificate {
  cert: CertificateFacts;
  role: 'root' | 'intermediate' | 'ca-cert';
  resource: ResourceRef;
  /** Not on ca-cert's validated path (an extra root of the bundle, a stray chain entry): nothing depends on it. */
  offPath?: boolean;
}

const ROTATE_HINT =
  'Reissue it from the same root (a new root breaks trust between clusters): in the certs directory holding root-key.pem, ' +
  'C=<cluster name>; rm -rf $C; make -f ../tools/certs/Makefile.selfsigned.mk $C-cacerts; recreate Secret cacerts in {{namespace}} ' +
  'from $C/ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem; kubectl --context=<{{cluster}} context> -n {{namespace}} rollout restart deployment/istiod. ' +
  'For a root: first bundle the new root with the old one in root-cert.pem of every cluster, then reissue from the new root.';

export default defineCheck({
  id: 'certificates/expiry',
  category: 'certificates',
  scope: 'cluster',
  // secrets?: cacerts and istio-ca-secret when readable; the root ConfigMap stands in when not.
  needs: ['configmaps', 'secrets?'],
  // Secrets are read when allowed; without them the distributed root stands in.
  meta: {
    description: 'The root, intermediates and CA certificate of each cluster are valid now and not about to expire',
    details:
      'istiod can sign workload certificates only while its CA certificate (ca-cert.pem) and every certificate above it ' +
      '(cert-chain.pem, root-cert.pem) are valid; peers reject a chain with an expired link with CERTIFICATE_VERIFY_FAILED. ' +
      'The check reads the plugged-in CA (cacerts, either form), else istiod\'s self-signed istio-ca-secret, else (Secrets ' +
      'forbidden) the distributed istio-ca-root-cert root. Expired or not yet valid is an error; expiring within ' +
      '--cert-warn-days (default 30) a warning. Certificates of the Secret off ca-cert\'s validated path (an extra root ' +
      'kept in root-cert.pem, a stray chain entry) break nothing: expired, they are a warning to remove them. ' +
      'Offline, "now" is the snapshot\'s capturedAt.',
    docs: 'https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/',
    messages: {
      certExpired: {
        template: 'The {{role}} certificate {{subject}} expired on {{notAfter}} ({{days}} days ago)',
        severity: 'error',
        hint: ROTATE_HINT,
      },
      certNotYetValid: {
        template: 'The {{role}} certificate {{subject}} is not valid before {{notBefore}}',
        severity: 'error',
        hint: 'Check the clock of the machine that issued it and reissue it with a start date in the past (openssl ... -startdate), then recreate cacerts and restart istiod: kubectl --context=<{{cluster}} context> rollout restart deployment/istiod -n {{namespace}}.',
      },
      offPathCertExpired: {
        template: 'The {{role}} certificate {{subject}} expired on {{notAfter}} ({{days}} days ago); it is not on the CA\'s path to its root',
        severity: 'warning',
        hint: 'Remove it from the cacerts Secret (an old root left in root-cert.pem after a rotation, or a stray cert-chain.pem entry), then recreate the Secret and kubectl --context=<{{cluster}} context> rollout restart deployment/istiod -n {{namespace}}.',
      },
      certExpiring: {
        template: 'The {{role}} certificate {{subject}} expires on {{notAfter}}, in {{days}} days',
        severity: 'warning',
        hint: ROTATE_HINT,
      },
    },
  },
  appliesTo(info) {
    if (controlledElsewhere(info)) return 'remote cluster: its CA is its control plane\'s (checked there)';
    return undefined;
  },
  async run(ctx) {
    const namespace = ctx.options.istioNamespace;
    const certs = await caCertificates(ctx.cluster, namespace, ctx.options.now);
    if (typeof certs === 'string') return ctx.skip(certs);
    if (certs.unreadSecrets) {
      // Only the distributed root was readable: what it shows is reported, but no pass for the CA certificate and intermediates it cannot show.
      ctx.notRead(ctx.cluster!.name, `cannot read Secrets in ${namespace} (${certs.unreadSecrets}): only the distributed root was judged, not the CA certificate and intermediates`);
    }
    const now = ctx.options.now.getTime();
    for (const { cert, role, resource, offPath } of certs.certs) {
      const base = { namespace, role, subject: cert.subject, notAfter: cert.notAfter.toISOString(), notBefore: cert.notBefore.toISOString() };
      if (offPath) {
        if (cert.notAfter.getTime() < now) ctx.report({ messageId: 'offPathCertExpired', resource, data: { ...base, days: Math.floor((now - cert.notAfter.getTime()) / DAY_MS) } });
        continue;
      }
      if (cert.notAfter.getTime() < now) {
        ctx.report({ messageId: 'certExpired', resource, data: { ...base, days: Math.floor((now - cert.notAfter.getTime()) / DAY_MS) } });
      } else if (cert.notBefore.getTime() > now) {
        ctx.report({ messageId: 'certNotYetValid', resource, data: base });
      } else if (cert.notAfter.getTime() - now < ctx.options.certWarnDays * DAY_MS) {
        ctx.report({ messageId: 'certExpiring', resource, data: { ...base, days: Math.floor((cert.notAfter.getTime() - now) / DAY_MS) } });
      }
    }
  },
});

/**
 * Every certificate of the cluster's CA material, or why there is none to judge (a skip reason).
 * `unreadSecrets`: why the CA Secrets could not be read, when only the distributed root stands in.
 */
async function caCertificates(reader: Parameters<typeof listInNamespace>[0], namespace: string, now: Date): Promise<{ certs: CaCertificate[]; unreadSecrets?: string } | string> {
  const secrets = await listInNamespace(reader, 'secrets', namespace);
  if ('objects' in secrets) {
    const cacerts = secrets.objects.find((s) => s.metadata.name === CACERTS_SECRET);
    if (cacerts) {
      const resource = { kind: 'Secret', namespace, name: CACERTS_SECRET };
      let parsed;
      try {
        parsed = parseCaMaterial(caSecretMaterial(cacerts));
      } catch (err) {
        return `cacerts does not parse (see certificates/cacerts): ${(err as Error).message}`;
      }
      const all = [parsed.caCert, ...parsed.caCertBundleRest, ...parsed.chain, ...parsed.roots];
      const roots = new Set(parsed.roots.map((r) => r.fingerprint));
      const verdict = validateChain({ target: parsed.caCert, untrusted: [...parsed.caCertBundleRest, ...parsed.chain], roots: parsed.roots, now, targetIsCa: true });
      // Without a complete path, every certificate may matter: judge them all as before.
      const onPath = new Set(verdict.trusted ? verdict.path.map((c) => c.fingerprint) : all.map((c) => c.fingerprint));
      return {
        certs: unique(all).map((cert) => ({
          cert,
          resource,
          role: cert.fingerprint === parsed.caCert.fingerprint ? 'ca-cert' : roots.has(cert.fingerprint) || isSelfIssued(cert) ? 'root' : 'intermediate',
          offPath: !onPath.has(cert.fingerprint),
        })),
      };
    }
    const selfSigned = secrets.objects.find((s) => s.metadata.name === SELF_SIGNED_CA_SECRET);
    if (selfSigned) {
      const resource = { kind: 'Secret', namespace, name: SELF_SIGNED_CA_SECRET };
      const text = [secretText(selfSigned, 'ca-cert.pem'), secretText(selfSigned, 'root-cert.pem')].filter((t) => t && !t.startsWith('REDACTED')).join('\n');
      return { certs: unique(parsePemCertificates(text)).map((cert) => ({ cert, resource, role: 'root' })) };
    }
  }
  // Secrets forbidden, or no CA Secret yet: the distributed root still tells when trust ends.
  const configMaps = await listInNamespace(reader, 'configmaps', namespace);
  const rootConfigMap = 'objects' in configMaps ? configMaps.objects.find((c) => c.metadata.name === ROOT_CERT_CONFIGMAP) : undefined;
  const pem = rootConfigMap?.data?.['root-cert.pem'];
  if (typeof pem === 'string' && pem.includes('BEGIN CERTIFICATE')) {
    const resource = { kind: 'ConfigMap', namespace, name: ROOT_CERT_CONFIGMAP };
    const certs: CaCertificate[] = unique(parsePemCertificates(pem)).map((cert) => ({ cert, resource, role: 'root' }));
    return 'forbidden' in secrets ? { certs, unreadSecrets: secrets.forbidden } : { certs };
  }
  return 'forbidden' in secrets ? `cannot read Secrets in ${namespace} (${secrets.forbidden}) and no ${ROOT_CERT_CONFIGMAP} ConfigMap` : `no CA material in ${namespace}`;
}

function unique(certs: CertificateFacts[]): CertificateFacts[] {
  return certs.filter((c, i) => certs.findIndex((o) => o.fingerprint === c.fingerprint) === i);
}
