// Encodes https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/ (ca-cert.pem chains through cert-chain.pem to root-cert.pem) and istio/istio security/pkg/pki/util/keycertbundle.go.
import { defineCheck } from '../../engine/define-check.ts';
import type { ContextOf } from '../../engine/types.ts';
import type { ChainCertificate, ChainDetail } from '../../engine/details.ts';
import {
  CACERTS_SECRET,
  caSecretMaterial,
  chainOrder,
  clustersWithOwnCa,
  parseCaMaterial,
  readCacertsSecret,
  type CertificateFacts,
  type ParsedCaMaterial,
} from '../../mesh/certificates.ts';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { certificateSpkiSha256, ekuRestriction, hasRsaPssKey, isSelfIssued, validateChain, type ChainProblemClass, type ChainVerdict } from '../../mesh/x509-validate.ts';

const VERIFY_HINT =
  'Verify the files before plugging them in: openssl verify -CAfile root-cert.pem -untrusted cert-chain.pem ca-cert.pem; ' +
  'if it fails, reissue them from the mesh root and recreate cacerts (commands: meshdoctor explain certificates/cacerts), then ' +
  'kubectl --context=<{{cluster}} context> -n {{namespace}} rollout restart deployment/istiod.';

// Validity is certificates/expiry's business: reported there once.
const TIME_CLASSES: ChainProblemClass[] = ['expired', 'not-yet-valid'];

const check = defineCheck({
  id: 'certificates/chain',
  category: 'certificates',
  scope: 'cluster',
  needs: ['secrets'],
  meta: {
    description: 'The plugged-in CA certificate chains to root-cert.pem, link by link, and ca-key.pem belongs to it',
    details:
      'istiod signs every workload certificate with ca-cert.pem/ca-key.pem and sends cert-chain.pem after it, so peers verify ' +
      'leaf -> ca-cert -> ... -> root. The check builds the path from ca-cert through cert-chain.pem (and any certificates after ' +
      'the first in ca-cert.pem) to a certificate of root-cert.pem, and checks every link itself as `openssl verify -CAfile ' +
      'root-cert.pem -untrusted cert-chain.pem ca-cert.pem` does: issuer name and authority/subject key identifiers, the ' +
      'signature, CA:TRUE and keyCertSign on every issuer, pathLen constraints. ca-cert itself must be a CA with keyCertSign, ' +
      'and its issuers\' pathLen must leave room for it to issue (as openssl verifying a workload certificate would). ' +
      'Intermediates between ca-cert and the root (tools/certs makes root -> cluster intermediate) are normal. cert-chain.pem ' +
      'must list each certificate before its issuer. ca-key.pem must be the key of ca-cert.pem (compared by public-key ' +
      'fingerprint; a snapshot keeps only that fingerprint). istiod sends each workload certificate followed by ' +
      'cert-chain.pem as stored, so unless ca-cert is itself the root, cert-chain.pem must start with ca-cert. A CA that ' +
      'lists extendedKeyUsage must list both serverAuth and clientAuth (OpenSSL and BoringSSL check the TLS purpose on every CA). RSA-PSS keys (id-RSASSA-PSS) ' +
      'cannot be used by istiod (Go). A trust anchor that is not self-signed (partial chain) is a warning: peers without ' +
      'partial-chain verification reject it. ca-crl.pem, when present, must be signed by a certificate of the chain, ' +
      'current, and must not revoke a certificate of the path. RSA keys under 2048 bits and SHA-1 signatures are warnings. ' +
      'Validity dates are left to certificates/expiry. The verdicts are tested against openssl verify.',
    docs: 'https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/',
    messages: {
      chainUntrusted: {
        template: 'ca-cert ({{subject}}) does not chain to root-cert.pem: {{detail}}',
        severity: 'error',
        hint: VERIFY_HINT,
      },
      chainSignatureInvalid: {
        template: 'The signature of {{subject}} in the CA chain does not verify: {{detail}}',
        severity: 'error',
        hint: VERIFY_HINT,
      },
      notACa: {
        template: '{{role}} {{subject}} cannot issue certificates: {{detail}}',
        severity: 'error',
        hint:
          'Every certificate that signs others needs basicConstraints CA:TRUE and keyUsage keyCertSign. Reissue it as a CA ' +
          '(tools/certs does: make -f ../tools/certs/Makefile.selfsigned.mk <cluster name>-cacerts), then recreate the cacerts Secret and restart istiod.',
      },
      pathLenViolated: {
        template: '{{subject}} has a pathLen constraint the chain violates: {{detail}}',
        severity: 'error',
        hint:
          'ca-cert issues workload certificates, so each CA above it needs a pathLen (if any) that counts ca-cert too. ' +
          'Reissue the constraining CA with a larger pathlen (or none), or sign ca-cert closer to the root; then recreate cacerts and restart istiod.',
      },
      chainWrongOrder: {
        template: 'cert-chain.pem is not ordered from ca-cert up to the root; expected: {{expected}}',
        severity: 'error',
        hint:
          'Istio appends cert-chain.pem to every workload certificate as is. Rebuild it in order: cat ca-cert.pem <intermediates, lowest first> root-cert.pem > cert-chain.pem; ' +
          'then recreate the Secret (kubectl --context=<{{cluster}} context> create secret generic cacerts -n {{namespace}} ... ) and kubectl --context=<{{cluster}} context> rollout restart deployment/istiod -n {{namespace}}.',
      },
      chainUnrelatedCertificates: {
        template: 'cert-chain.pem holds certificates not on ca-cert\'s path: {{subjects}}',
        severity: 'warning',
        hint: 'Remove them: peers receive cert-chain.pem with every workload certificate. Rebuild it as cat ca-cert.pem <intermediates, lowest first> root-cert.pem > cert-chain.pem, recreate the cacerts Secret and restart istiod.',
      },
      caKeyMismatch: {
        template: 'ca-key does not belong to ca-cert ({{subject}}): key fingerprint {{keyFingerprint}}, certificate key {{certFingerprint}}',
        severity: 'error',
        hint:
          'istiod refuses to load a key that does not match (and keeps its old CA). Compare locally: openssl x509 -in ca-cert.pem -noout -pubkey; ' +
          'openssl pkey -in ca-key.pem -pubout (they must be equal), and recreate the cacerts Secret from files of one CA.',
      },
      caKeyUnverifiable: {
        template: 'ca-key of {{secret}} is redacted without a key fingerprint: whether it matches ca-cert cannot be told',
        severity: 'info',
        hint: 'Take the snapshot with a current meshdoctor (it keeps the key fingerprint: `REDACTED spki-sha256=...`), or run against the live cluster.',
      },
      weakKey: {
        template: '{{subject}} in the CA chain has a weak key: {{detail}}',
        severity: 'warning',
        hint: 'Reissue it with RSA 2048+ or ECDSA P-256 (tools/certs: ROOTCA_KEY_SIZE/INTERMEDIATE_KEY_SIZE), then rotate the CA as in the plug-in CA procedure.',
      },
      weakSignature: {
        template: '{{subject}} in the CA chain has a weak signature: {{detail}} (newer istiod releases, built with Go 1.24+, refuse SHA-1 signatures)',
        severity: 'warning',
        hint: 'Reissue it with a SHA-256 signature (openssl ... -sha256), then rotate the CA as in the plug-in CA procedure.',
      },
      chainMissingCaCert: {
        template: 'cert-chain.pem does not start with ca-cert ({{subject}}): istiod sends it after each workload certificate as stored, so peers get no ca-cert and cannot build a path to the root',
        severity: 'error',
        hint: 'Put ca-cert first: cat ca-cert.pem <intermediates, lowest first> root-cert.pem > cert-chain.pem; recreate the cacerts Secret and kubectl --context=<{{cluster}} context> rollout restart deployment/istiod -n {{namespace}}.',
      },
      ekuTooNarrow: {
        template: '{{role}} {{subject}} restricts the certificates it issues: {{detail}}; workload certificates then fail mTLS verification',
        severity: 'error',
        hint: 'Reissue the CA without extendedKeyUsage, or with both serverAuth and clientAuth; check with openssl verify -purpose sslclient and -purpose sslserver on a workload certificate. Then recreate cacerts and restart istiod.',
      },
      unsupportedKeyType: {
        template: '{{subject}} in the CA chain has an RSA-PSS public key (id-RSASSA-PSS), which istiod (Go crypto/x509) cannot use',
        severity: 'error',
        hint: 'Reissue the CA material with RSA (rsaEncryption, PKCS#1 v1.5 signatures) or ECDSA P-256 keys, then recreate cacerts and restart istiod.',
      },
      partialChainAnchor: {
        template: 'The trust anchor {{subject}} in {{rootKey}} is not self-signed: peers without partial-chain verification reject the chain',
        severity: 'warning',
        hint: 'Put the self-signed root in {{rootKey}} (and keep intermediates in the chain), then recreate the Secret and restart istiod.',
      },
      crlInvalid: {
        template: 'ca-crl.pem: {{detail}}',
        severity: 'error',
        hint: 'Regenerate the CRL with the CA that issued the revoked certificates (openssl ca -gencrl -out ca-crl.pem), check it (openssl crl -in ca-crl.pem -noout -nextupdate), and recreate the cacerts Secret.',
      },
      crlRevokesPath: {
        template: 'ca-crl.pem revokes {{subject}} (serial {{serial}}), a certificate of the CA chain: peers that check the CRL reject every workload certificate',
        severity: 'error',
        hint: 'Plug in a CA chain that is not revoked (see the plug-in CA procedure), or remove the revocation from the CRL; then recreate cacerts and restart istiod.',
      },
    },
  },
  appliesTo: clustersWithOwnCa,
  async run(ctx) {
    const { namespace, cacerts: secret } = await readCacertsSecret(ctx);
    if (!secret) return ctx.skip('no plugged-in CA (see certificates/cacerts)');
    const material = caSecretMaterial(secret);
    if (material.caCertText === undefined || material.rootText === undefined) return ctx.skip(`cacerts lacks ${material.keys.caCert} or ${material.keys.root} (see certificates/cacerts)`);
    let parsed: ParsedCaMaterial;
    try {
      parsed = parseCaMaterial(material);
    } catch (err) {
      return ctx.skip(`cacerts does not parse (see certificates/cacerts): ${(err as Error).message}`);
    }

    const verdict = validateChain({
      target: parsed.caCert,
      untrusted: [...parsed.caCertBundleRest, ...parsed.chain],
      roots: parsed.roots,
      now: ctx.options.now,
      targetIsCa: true,
    });
    const resource = { kind: 'Secret', namespace, name: CACERTS_SECRET };
    reportVerdict(ctx, verdict, { resource, namespace });

    // Order is judged on a chain whose links hold: a broken link is reported once, above.
    if (material.form === 'cacerts' && verdict.trusted && !verdict.problems.some((p) => p.class === 'signature')) {
      const order = chainOrder(parsed.caCert, parsed.chain);
      if (order.kind === 'wrong-order') ctx.report({ messageId: 'chainWrongOrder', resource, data: { namespace, expected: order.expected.join(' -> ') } });
      if (order.kind === 'unrelated') ctx.report({ messageId: 'chainUnrelatedCertificates', resource, data: { namespace, subjects: order.subjects.join('; ') } });
    }

    // istiod sends cert-chain.pem as stored after each workload certificate (istio CA server).
    // (ca-cert elsewhere in the chain is a wrong order, reported above.)
    if (material.form === 'cacerts' && parsed.chain.length > 0 && !isSelfIssued(parsed.caCert) && !parsed.chain.some((c) => c.fingerprint === parsed.caCert.fingerprint)) {
      ctx.report({ messageId: 'chainMissingCaCert', resource, data: { namespace, subject: parsed.caCert.subject } });
    }
    for (const [depth, cert] of verdict.path.entries()) {
      const restriction = ekuRestriction(cert);
      if (restriction) ctx.report({ messageId: 'ekuTooNarrow', resource, data: { namespace, role: roleAt(verdict, depth), subject: cert.subject, detail: restriction } });
      if (hasRsaPssKey(cert)) ctx.report({ messageId: 'unsupportedKeyType', resource, data: { namespace, subject: cert.subject } });
    }
    const anchor = verdict.path.at(-1);
    if (verdict.trusted && anchor && !isSelfIssued(anchor)) ctx.report({ messageId: 'partialChainAnchor', resource, data: { namespace, subject: anchor.subject, rootKey: material.keys.root } });
    if (material.crlText !== undefined) await checkCrl(ctx, material.crlText, verdict, { resource, namespace });

    const key = parsed.key;
    if (key?.kind === 'key' || key?.kind === 'redacted') {
      const certFingerprint = certificateSpkiSha256(parsed.caCert);
      if (key.spkiSha256 !== certFingerprint) {
        ctx.report({
          messageId: 'caKeyMismatch',
          resource,
          data: { namespace, subject: parsed.caCert.subject, keyFingerprint: key.spkiSha256.slice(0, 16), certFingerprint: certFingerprint.slice(0, 16) },
        });
      }
    }
    if (key?.kind === 'redacted-opaque') ctx.report({ messageId: 'caKeyUnverifiable', resource, data: { secret: `${namespace}/${CACERTS_SECRET}` } });

    ctx.attach('chain', chainDetail(`${namespace}/${CACERTS_SECRET}`, material.form, verdict, parsed.roots));
  },
});
export default check;

/** run()'s context, for the helpers below. */
type Ctx = ContextOf<typeof check>;

/** Each CRL of ca-crl.pem must be signed by a certificate of the path, current, and revoke none of the path. */
async function checkCrl(ctx: Ctx, text: string, verdict: ChainVerdict, where: { resource: { kind: string; namespace: string; name: string }; namespace: string }): Promise<void> {
  const blocks = text.match(/-----BEGIN (?:X509 )?CRL-----[\s\S]+?-----END (?:X509 )?CRL-----/g) ?? [];
  const report = (detail: string) => ctx.report({ messageId: 'crlInvalid', resource: where.resource, data: { namespace: where.namespace, detail } });
  if (blocks.length === 0) return report('holds no PEM CRL (-----BEGIN X509 CRL-----)');
  for (const block of blocks) {
    let crl: x509.X509Crl;
    try {
      crl = new x509.X509Crl(block);
    } catch (err) {
      report(`a CRL does not parse: ${(err as Error).message}`);
      continue;
    }
    let signer: CertificateFacts | undefined;
    for (const cert of verdict.path.filter((c) => c.subject === crl.issuer)) {
      if (await crl.verify({ publicKey: cert.cert.publicKey }).catch(() => false)) signer = cert;
    }
    if (!signer) report(`the CRL of ${crl.issuer} is not signed by a certificate of the CA chain`);
    if (crl.nextUpdate && crl.nextUpdate.getTime() < ctx.options.now.getTime()) report(`the CRL of ${crl.issuer} expired (nextUpdate ${crl.nextUpdate.toISOString()})`);
    if (!signer) continue;
    // Only certificates the signer issued can be revoked by its CRL.
    for (const cert of verdict.path.filter((c) => c.issuer === signer.subject && c.fingerprint !== signer.fingerprint)) {
      const serial = cert.cert.serialNumber.toLowerCase().replace(/^0+/, '');
      if (crl.entries.some((e) => e.serialNumber.toLowerCase().replace(/^0+/, '') === serial)) {
        ctx.report({ messageId: 'crlRevokesPath', resource: where.resource, data: { namespace: where.namespace, subject: cert.subject, serial } });
      }
    }
  }
}

function reportVerdict(ctx: Ctx, verdict: ChainVerdict, where: { resource: { kind: string; namespace: string; name: string }; namespace: string }): void {
  const messageIds = {
    untrusted: 'chainUntrusted',
    signature: 'chainSignatureInvalid',
    'not-a-ca': 'notACa',
    'path-length': 'pathLenViolated',
  } as const satisfies Record<Exclude<ChainProblemClass, 'expired' | 'not-yet-valid'>, string>;
  for (const problem of verdict.problems) {
    if (TIME_CLASSES.includes(problem.class)) continue;
    const messageId = messageIds[problem.class as keyof typeof messageIds];
    const role = roleAt(verdict, problem.depth);
    ctx.report({ messageId, resource: where.resource, data: { namespace: where.namespace, subject: problem.subject, detail: problem.detail, role } });
  }
  for (const weakness of verdict.weaknesses) {
    ctx.report({
      messageId: weakness.class === 'weak-key' ? 'weakKey' : 'weakSignature',
      resource: where.resource,
      data: { namespace: where.namespace, subject: weakness.subject, detail: weakness.detail },
    });
  }
}

function roleAt(verdict: ChainVerdict, depth: number): ChainCertificate['role'] {
  if (depth === 0) return 'ca-cert';
  return verdict.trusted && depth === verdict.path.length - 1 ? 'root' : 'intermediate';
}

function describe(cert: CertificateFacts, role: ChainCertificate['role']): ChainCertificate {
  return { role, subject: cert.subject, issuer: cert.issuer, fingerprint: cert.fingerprint, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() };
}

function chainDetail(secret: string, form: 'cacerts' | 'tls', verdict: ChainVerdict, roots: CertificateFacts[]): ChainDetail {
  return {
    secret,
    form,
    trusted: verdict.trusted,
    path: verdict.path.map((cert, depth) => describe(cert, roleAt(verdict, depth))),
    roots: verdict.trusted ? [] : roots.map((r) => describe(r, 'root')),
  };
}
