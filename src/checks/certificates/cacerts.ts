// Encodes https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/ and how istiod picks its CA (istio/istio pilot/pkg/bootstrap/istio_ca.go).
import { defineCheck } from '../../engine/define-check.ts';
import type { KubeObject } from '../../cluster/types.ts';
import type { ContextOf } from '../../engine/types.ts';
import {
  CACERTS_SECRET,
  ISTIOD_REFUSES_INCOMPLETE_CACERTS,
  PLUGIN_CA_COMMANDS,
  SELF_SIGNED_CA_SECRET,
  caSecretMaterial,
  clustersWithOwnCa,
  istioVersionAtLeast,
  parseCaMaterial,
  BundleTooLargeError,
  readCacertsSecret,
  type CaSecretMaterial,
} from '../../mesh/certificates.ts';

const check = defineCheck({
  id: 'certificates/cacerts',
  category: 'certificates',
  scope: 'cluster',
  needs: ['secrets'],
  meta: {
    description: 'Each control-plane cluster runs a plugged-in CA (the cacerts Secret) with every key istiod needs',
    details:
      'Clusters of one mesh must issue workload certificates from one root of trust. Without a `cacerts` Secret in the istio ' +
      'namespace istiod generates its own self-signed root (istio-ca-secret), which no other cluster trusts, and cross-cluster ' +
      'mTLS fails. istiod loads two forms: ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem (optional ca-crl.pem), as ' +
      'Istio\'s tools/certs makes them; or tls.crt, tls.key and ca.crt (a kubernetes.io/tls Secret, e.g. from cert-manager), ' +
      'used whenever tls.crt is present. Before Istio 1.27 istiod looks for ca-key.pem to decide whether a CA is plugged in ' +
      'at all: a Secret without it is silently ignored in favour of the self-signed CA; from 1.27 (istio/istio#55696) an ' +
      'incomplete bundle makes istiod refuse to start. An empty cert-chain.pem loads, but workload certificates then go out ' +
      'without ca-cert and the intermediates, so peers cannot build a path to the root. The check also parses every ' +
      'certificate and the private key (PKCS#8, PKCS#1 or SEC1, as the first PEM block: istiod reads no other; a snapshot ' +
      'keeps only its public-key fingerprint), never printing the key. ' +
      'Remote clusters of a primary-remote mesh get certificates from the primary\'s istiod and are not checked.',
    docs: 'https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/',
    messages: {
      cacertsMissing: {
        template: 'No plugged-in CA in {{namespace}} of cluster {{cluster}}: {{fallback}}, a root no other cluster trusts',
        severity: 'error',
        hint: `Plug in a CA from the mesh's shared root: ${PLUGIN_CA_COMMANDS}`,
      },
      cacertsIncomplete: {
        template: 'Secret {{namespace}}/cacerts ({{form}} form) lacks {{missing}}{{consequence}}',
        severity: 'error',
        hint:
          'Recreate the Secret with every file (C: the directory of this cluster\'s CA files): kubectl --context=<{{cluster}} context> delete secret cacerts -n {{namespace}}; ' +
          'kubectl --context=<{{cluster}} context> create secret generic cacerts -n {{namespace}} --from-file=$C/ca-cert.pem --from-file=$C/ca-key.pem ' +
          '--from-file=$C/root-cert.pem --from-file=$C/cert-chain.pem (tls form: tls.crt, tls.key, ca.crt); ' +
          'then kubectl --context=<{{cluster}} context> rollout restart deployment/istiod -n {{namespace}}.',
      },
      cacertsUnparseable: {
        template: 'Secret {{namespace}}/cacerts cannot be used: {{error}}',
        severity: 'error',
        hint:
          'Inspect the certificates: kubectl get secret cacerts -n {{namespace}} -o jsonpath=\'{.data.ca-cert\\.pem}\' | base64 -d | openssl x509 -noout -text; ' +
          'recreate the Secret from the PEM files your CA produced (see `meshdoctor explain certificates/cacerts`).',
      },
      caKeyUnreadable: {
        template: 'The private key {{key}} of Secret {{namespace}}/cacerts cannot be read: {{reason}}',
        severity: 'error',
        hint:
          'istiod needs an unencrypted PEM key (PKCS#8, PKCS#1 or SEC1). Check it locally: openssl pkey -in ca-key.pem -noout; ' +
          'decrypt it if needed (openssl pkey -in encrypted.pem -out ca-key.pem) and recreate the Secret.',
      },
    },
  },
  appliesTo: clustersWithOwnCa,
  async run(ctx) {
    const { namespace, secrets, cacerts } = await readCacertsSecret(ctx);
    if (!cacerts) {
      reportMissing(ctx, secrets, namespace);
      return;
    }
    const resource = { kind: 'Secret', namespace, name: CACERTS_SECRET };
    const material = caSecretMaterial(cacerts);
    const data = { cluster: ctx.cluster.name, namespace, form: material.form };
    if (material.missingKeys.length > 0) {
      const consequence = incompleteConsequence(cacerts, material, ctx.clusterInfo.istioVersion);
      ctx.report({ messageId: 'cacertsIncomplete', resource, data: { ...data, missing: material.missingKeys.join(', '), consequence } });
    }
    let parsed;
    try {
      parsed = parseCaMaterial(material);
    } catch (err) {
      // Too many certificates to read: could not check (error outcome), not a malformed Secret.
      if (err instanceof BundleTooLargeError) throw err;
      ctx.report({ messageId: 'cacertsUnparseable', resource, data: { ...data, error: (err as Error).message } });
      return;
    }
    if (parsed.key?.kind === 'unreadable') {
      ctx.report({ messageId: 'caKeyUnreadable', resource, data: { ...data, key: material.keys.caKey, reason: parsed.key.reason } });
    }
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/**
 * What istiod does with an incomplete Secret. Before 1.27 it decides "plugged in" by the key file alone
 * (istio_ca.go): without it the Secret is ignored; with it, a missing file fails the CA. From 1.27
 * checkCABundleCompleteness refuses to start on any missing file. A present but empty cert-chain.pem
 * loads: workloads then get their leaf without ca-cert and intermediates.
 */
function incompleteConsequence(secret: KubeObject, material: CaSecretMaterial, istioVersion: string | undefined): string {
  const { major, minor } = ISTIOD_REFUSES_INCOMPLETE_CACERTS;
  const refuses = istioVersionAtLeast(istioVersion, major, minor);
  // A key listed with an empty value is a file istiod finds (and loads empty); an unlisted key is no file.
  const listed = (key: string) => (secret.data !== undefined && key in secret.data) || (secret.stringData !== undefined && key in secret.stringData);
  const absent = material.missingKeys.filter((key) => !listed(key));
  const keyMissing = absent.includes(material.keys.caKey);
  if (absent.length === 0) {
    // Only empty values: istiod loads them as they are.
    return material.missingKeys.includes(CHAIN_KEY)
      ? ': an empty cert-chain.pem loads, but workload certificates then go out without ca-cert and its intermediates, so peers cannot build a path to the root'
      : ': istiod cannot load empty CA files';
  }
  if (refuses === true) return `: istiod ${istioVersion} refuses to start (incomplete signing CA bundle)`;
  if (refuses === false) return keyMissing ? `: istiod ${istioVersion} ignores the Secret and runs its self-signed CA (${SELF_SIGNED_CA_SECRET})` : `: istiod ${istioVersion} fails to create its CA`;
  return keyMissing
    ? `: istiod before 1.27 ignores the Secret and runs its self-signed CA (${SELF_SIGNED_CA_SECRET}); 1.27 and later refuse to start`
    : ': istiod fails to create its CA (1.27 and later refuse to start)';
}

const CHAIN_KEY = 'cert-chain.pem';

function reportMissing(ctx: Ctx, secrets: KubeObject[], namespace: string): void {
  const selfSigned = secrets.some((s) => s.metadata.name === SELF_SIGNED_CA_SECRET);
  const fallback = selfSigned ? `istiod runs its self-signed CA (${SELF_SIGNED_CA_SECRET})` : 'istiod will generate a self-signed CA';
  // A single-cluster mesh may well live with the self-signed root; only a mesh of several needs one root.
  const severity = ctx.clusters.length > 1 ? undefined : 'info';
  ctx.report({ messageId: 'cacertsMissing', severity, data: { cluster: ctx.cluster.name, namespace, fallback } });
}
