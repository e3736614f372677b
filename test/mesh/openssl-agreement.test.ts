// meshdoctor's chain verdicts against `openssl verify` on a corpus the openssl CLI generates here, in a
// temp dir: healthy chains and every way CA material breaks. Certificates get explicit validity dates
// (`openssl ca -startdate/-enddate`, OpenSSL 3.0 has no `x509 -not_before`) and every verify runs at
// `-attime` = the validator's `now`. Two verdicts per case: ca-cert itself (as openssl sees it), and
// ca-cert as an issuing CA (meshdoctor's targetIsCa) against openssl verifying a leaf ca-cert issued.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainOrder, parsePemCertificates, type CertificateFacts } from '../../src/mesh/certificates.ts';
import { certificateSpkiSha256, ekuRestriction, isSelfIssued, privateKeyFacts, validateChain, type ChainProblemClass } from '../../src/mesh/x509-validate.ts';

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;
// Whole seconds: openssl's -attime and certificate dates have no milliseconds.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

type Reason = ChainProblemClass | 'weak';

/** openssl's X509_V_ERR codes (3.0 numbering) by the class meshdoctor gives the same problem. */
const OPENSSL_CLASSES: Record<number, Reason> = {
  2: 'untrusted', // unable to get issuer certificate
  18: 'untrusted', // self-signed certificate
  19: 'untrusted', // self-signed certificate in chain
  20: 'untrusted', // unable to get local issuer certificate
  21: 'untrusted', // unable to verify the first certificate
  7: 'signature',
  9: 'not-yet-valid',
  10: 'expired',
  24: 'not-a-ca', // invalid CA certificate (before 3.0)
  79: 'not-a-ca', // invalid CA certificate
  32: 'not-a-ca', // key usage does not include certificate signing
  25: 'path-length',
  66: 'weak', // EE key too small
  67: 'weak', // CA key too small
  68: 'weak', // CA signature digest too weak
};

const EXTENSIONS = `
[ext_root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[ext_root_pathlen0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[ext_ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_pathlen0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_no_aki]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=none
[ext_not_ca]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_no_certsign]
basicConstraints=critical,CA:TRUE
keyUsage=critical,digitalSignature,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_eku_server]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_eku_client]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_eku_both]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=serverAuth,clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_ca_eku_any]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=anyExtendedKeyUsage
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_leaf_mtls]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ext_leaf_no_aki]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
authorityKeyIdentifier=none
`;

type KeyKind = 'ec' | 'rsa1024' | 'rsa2048' | 'rsa2048-pkcs1' | 'ec-sec1';

/** A scratch CA directory driving `openssl ca`. */
class Corpus {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  async init(): Promise<void> {
    await mkdir(this.file('newcerts'));
    await writeFile(this.file('index.txt'), '');
    await writeFile(this.file('serial'), '1000\n');
    const config = [
      '[ca]',
      'default_ca = CA_default',
      '[CA_default]',
      `database = ${this.file('index.txt')}`,
      `new_certs_dir = ${this.file('newcerts')}`,
      `serial = ${this.file('serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      'email_in_dn = no',
      '[policy_any]',
      'commonName = optional',
      'organizationName = optional',
      'localityName = optional',
      EXTENSIONS,
    ].join('\n');
    await writeFile(this.file('ca.cnf'), config);
  }

  async key(name: string, kind: KeyKind = 'ec'): Promise<string> {
    const out = this.file(`${name}.key`);
    if (kind === 'ec') await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
    if (kind === 'ec-sec1') await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', out]);
    if (kind === 'rsa1024' || kind === 'rsa2048') {
      await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${kind === 'rsa1024' ? 1024 : 2048}`, '-out', out]);
    }
    if (kind === 'rsa2048-pkcs1') await run('openssl', ['genrsa', '-traditional', '-out', out, '2048']);
    return out;
  }

  /** Issue `name` (self-signed without an issuer) with explicit dates; the key is `<key>.key`. */
  async issue(opts: { name: string; subject: string; key: string; issuer?: string; issuerKey?: string; ext: string; from?: Date; to?: Date; md?: string }): Promise<string> {
    const csr = this.file(`${opts.name}.csr`);
    await run('openssl', ['req', '-new', '-key', this.file(`${opts.key}.key`), '-subj', opts.subject, '-out', csr]);
    const out = this.file(`${opts.name}.pem`);
    const signer = opts.issuer
      ? ['-cert', this.file(`${opts.issuer}.pem`), '-keyfile', this.file(`${opts.issuerKey ?? opts.issuer}.key`)]
      : ['-selfsign', '-keyfile', this.file(`${opts.key}.key`)];
    await run('openssl', [
      'ca', '-batch', '-config', this.file('ca.cnf'), '-notext', '-preserveDN', '-in', csr, '-out', out, ...signer,
      '-startdate', opensslDate(opts.from ?? at(-30)), '-enddate', opensslDate(opts.to ?? at(3650)),
      '-extensions', `ext_${opts.ext}`, '-md', opts.md ?? 'sha256',
    ]);
    return out;
  }

  async concat(name: string, parts: string[]): Promise<string> {
    const texts = await Promise.all(parts.map((p) => readFile(this.file(`${p}.pem`), 'utf8')));
    await writeFile(this.file(`${name}.pem`), texts.join(''));
    return this.file(`${name}.pem`);
  }
}

function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** One case: files by role and what the case is meant to show. */
interface Case {
  name: string;
  root: string;
  /** cert-chain.pem parts in file order (may be empty). */
  chain: string[];
  caCert: string;
  caKey: string;
  /** Expected classes of the ca-cert verdict and of the issuing-CA verdict (empty: valid). */
  expect: Reason[];
  expectAsIssuer: Reason[];
  keyMatches?: boolean;
  wrongOrder?: boolean;
}

interface OpensslVerdict {
  ok: boolean;
  classes: Reason[];
  output: string;
}

async function opensslVerify(c: Corpus, root: string, untrusted: string[], target: string, extra: string[] = []): Promise<OpensslVerdict> {
  const args = ['verify', '-attime', String(NOW.getTime() / 1000), ...extra, '-CAfile', c.file(`${root}.pem`)];
  if (untrusted.length) args.push('-untrusted', await c.concat(`untrusted-${target}-${untrusted.join('+')}`, untrusted));
  args.push(c.file(`${target}.pem`));
  try {
    const { stdout, stderr } = await run('openssl', args);
    return { ok: true, classes: [], output: stdout + stderr };
  } catch (err) {
    const output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    const codes = [...output.matchAll(/error (\d+) at \d+ depth/g)].map((m) => Number(m[1]));
    const classes = codes.map((code) => OPENSSL_CLASSES[code] ?? (`unknown openssl error ${code}` as Reason));
    return { ok: false, classes: [...new Set(classes)], output };
  }
}

async function certs(c: Corpus, parts: string[]): Promise<CertificateFacts[]> {
  const texts = await Promise.all(parts.map((p) => readFile(c.file(`${p}.pem`), 'utf8')));
  return texts.flatMap((t) => parsePemCertificates(t));
}

let corpus: Corpus;
const cases: Case[] = [];

beforeAll(async () => {
  corpus = new Corpus(await mkdtemp(path.join(tmpdir(), 'meshdoctor-openssl-')));
  const c = corpus;
  await c.init();
  const keys: [string, KeyKind][] = [
    ['root', 'ec'], ['root2', 'ec'], ['root0', 'ec'], ['int', 'ec'], ['evil', 'ec'], ['ca', 'ec'], ['other', 'ec'],
    ['ca-rsa1024', 'rsa1024'], ['ca-pkcs1', 'rsa2048-pkcs1'], ['ca-sec1', 'ec-sec1'], ['leaf', 'ec'],
  ];
  await Promise.all(keys.map(([name, kind]) => c.key(name, kind)));
  // Roots: the mesh's, another with the same subject (the classic mismatch), one with pathlen:0.
  await c.issue({ name: 'root', subject: '/O=Istio/CN=Root CA', key: 'root', ext: 'root', from: at(-365), to: at(3650) });
  await c.issue({ name: 'root2', subject: '/O=Istio/CN=Root CA', key: 'root2', ext: 'root', from: at(-365), to: at(3650) });
  await c.issue({ name: 'root0', subject: '/O=Istio/CN=Root CA pathlen 0', key: 'root0', ext: 'root_pathlen0' });
  const intermediate = (name: string, ext: string, extra: Partial<Parameters<Corpus['issue']>[0]> = {}) =>
    c.issue({ name, subject: '/O=Istio/CN=Intermediate CA', key: 'int', issuer: 'root', ext, ...extra });
  await intermediate('int', 'ca');
  await intermediate('int-expired', 'ca', { from: at(-400), to: at(-5) });
  await intermediate('int-future', 'ca', { from: at(5), to: at(400) });
  await intermediate('int-not-ca', 'not_ca');
  await intermediate('int-no-certsign', 'ca_no_certsign');
  await intermediate('int-pathlen0', 'ca_pathlen0');
  await c.issue({ name: 'int-under-root0', subject: '/O=Istio/CN=Intermediate CA', key: 'int', issuer: 'root0', ext: 'ca' });
  await c.issue({ name: 'int-sha1', subject: '/O=Istio/CN=Intermediate CA', key: 'int', issuer: 'root', ext: 'ca', md: 'sha1' });
  // An impostor with the intermediate's name and another key, to sign a ca-cert without an AKI.
  await c.issue({ name: 'int-evil', subject: '/O=Istio/CN=Intermediate CA', key: 'evil', issuer: 'root', ext: 'ca' });
  await c.issue({ name: 'int-root2', subject: '/O=Istio/CN=Intermediate CA', key: 'int', issuer: 'root2', ext: 'ca' });

  const caCert = (name: string, issuer: string, extra: Partial<Parameters<Corpus['issue']>[0]> = {}) =>
    c.issue({ name, subject: '/O=Istio/CN=Cluster CA/L=cluster1', key: 'ca', issuer, issuerKey: 'int', ext: 'ca_pathlen0', from: at(-30), to: at(700), ...extra });
  await caCert('ca', 'int');
  await caCert('ca-under-expired', 'int-expired');
  await caCert('ca-under-future', 'int-future');
  await caCert('ca-under-not-ca', 'int-not-ca');
  await caCert('ca-under-no-certsign', 'int-no-certsign');
  await caCert('ca-under-pathlen0', 'int-pathlen0');
  await caCert('ca-under-root0', 'int-under-root0');
  await caCert('ca-under-root2', 'int-root2');
  await caCert('ca-expired', 'int', { from: at(-400), to: at(-1) });
  await caCert('ca-future', 'int', { from: at(2), to: at(400) });
  await caCert('ca-not-ca', 'int', { ext: 'not_ca' });
  await caCert('ca-sha1', 'int', { md: 'sha1' });
  await caCert('ca-forged', 'int-evil', { issuerKey: 'evil', ext: 'ca_no_aki' });
  await caCert('ca-direct', 'root', { issuerKey: 'root' });
  await c.issue({ name: 'ca-rsa1024', subject: '/O=Istio/CN=Cluster CA RSA 1024', key: 'ca-rsa1024', issuer: 'int', ext: 'ca_pathlen0' });
  await c.issue({ name: 'ca-pkcs1', subject: '/O=Istio/CN=Cluster CA PKCS1', key: 'ca-pkcs1', issuer: 'int', ext: 'ca_pathlen0' });
  await c.issue({ name: 'ca-sec1', subject: '/O=Istio/CN=Cluster CA SEC1', key: 'ca-sec1', issuer: 'int', ext: 'ca_pathlen0' });

  const base = { root: 'root', caKey: 'ca', expect: [] as Reason[], expectAsIssuer: [] as Reason[] };
  cases.push(
    { ...base, name: 'healthy root -> intermediate -> ca-cert', chain: ['ca', 'int', 'root'], caCert: 'ca' },
    { ...base, name: 'healthy chain without ca-cert in cert-chain.pem', chain: ['int', 'root'], caCert: 'ca' },
    { ...base, name: 'healthy ca-cert signed by the root', chain: ['ca-direct', 'root'], caCert: 'ca-direct' },
    { ...base, name: 'RSA 2048 ca-cert with a PKCS#1 key', chain: ['ca-pkcs1', 'int', 'root'], caCert: 'ca-pkcs1', caKey: 'ca-pkcs1' },
    { ...base, name: 'ca-cert with a SEC1 EC key', chain: ['ca-sec1', 'int', 'root'], caCert: 'ca-sec1', caKey: 'ca-sec1' },
    { ...base, name: 'cert-chain.pem in the wrong order', chain: ['root', 'int', 'ca'], caCert: 'ca', wrongOrder: true },
    { ...base, name: 'wrong root (same subject, other key)', chain: ['ca', 'int', 'root'], caCert: 'ca', root: 'root2', expect: ['untrusted'], expectAsIssuer: ['untrusted'] },
    { ...base, name: 'chain to another root', chain: ['ca-under-root2', 'int-root2'], caCert: 'ca-under-root2', expect: ['untrusted'], expectAsIssuer: ['untrusted'] },
    { ...base, name: 'intermediate missing from cert-chain.pem', chain: [], caCert: 'ca', expect: ['untrusted'], expectAsIssuer: ['untrusted'] },
    { ...base, name: 'expired intermediate', chain: ['ca-under-expired', 'int-expired', 'root'], caCert: 'ca-under-expired', expect: ['expired'], expectAsIssuer: ['expired'] },
    { ...base, name: 'not-yet-valid intermediate', chain: ['ca-under-future', 'int-future', 'root'], caCert: 'ca-under-future', expect: ['not-yet-valid'], expectAsIssuer: ['not-yet-valid'] },
    { ...base, name: 'expired ca-cert', chain: ['ca-expired', 'int', 'root'], caCert: 'ca-expired', expect: ['expired'], expectAsIssuer: ['expired'] },
    { ...base, name: 'not-yet-valid ca-cert', chain: ['ca-future', 'int', 'root'], caCert: 'ca-future', expect: ['not-yet-valid'], expectAsIssuer: ['not-yet-valid'] },
    { ...base, name: 'non-CA intermediate', chain: ['ca-under-not-ca', 'int-not-ca', 'root'], caCert: 'ca-under-not-ca', expect: ['not-a-ca'], expectAsIssuer: ['not-a-ca'] },
    { ...base, name: 'intermediate without keyCertSign', chain: ['ca-under-no-certsign', 'int-no-certsign', 'root'], caCert: 'ca-under-no-certsign', expect: ['not-a-ca'], expectAsIssuer: ['not-a-ca'] },
    { ...base, name: 'pathLen violation (root pathlen:0 above an intermediate)', root: 'root0', chain: ['ca-under-root0', 'int-under-root0', 'root0'], caCert: 'ca-under-root0', expect: ['path-length'], expectAsIssuer: ['path-length'] },
    { ...base, name: 'intermediate pathlen:0 leaves no room for ca-cert to issue', chain: ['ca-under-pathlen0', 'int-pathlen0', 'root'], caCert: 'ca-under-pathlen0', expectAsIssuer: ['path-length'] },
    { ...base, name: 'ca-cert is not a CA', chain: ['ca-not-ca', 'int', 'root'], caCert: 'ca-not-ca', expectAsIssuer: ['not-a-ca'] },
    { ...base, name: 'forged signature (right name, other key, no AKI)', chain: ['ca-forged', 'int', 'root'], caCert: 'ca-forged', expect: ['signature'], expectAsIssuer: ['signature'] },
    { ...base, name: 'ca-key does not match ca-cert', chain: ['ca', 'int', 'root'], caCert: 'ca', caKey: 'other', keyMatches: false, expectAsIssuer: ['signature'] },
    { ...base, name: 'RSA 1024 ca-cert', chain: ['ca-rsa1024', 'int', 'root'], caCert: 'ca-rsa1024', caKey: 'ca-rsa1024', expect: ['weak'], expectAsIssuer: ['weak'] },
    { ...base, name: 'SHA-1 signed ca-cert', chain: ['ca-sha1', 'int', 'root'], caCert: 'ca-sha1', expect: ['weak'], expectAsIssuer: ['weak'] },
    { ...base, name: 'SHA-1 signed intermediate', chain: ['ca', 'int-sha1', 'root'], caCert: 'ca', expect: ['weak'], expectAsIssuer: ['weak'] },
  );
  // A workload-like leaf from each ca-cert, signed with the case's ca-key (a wrong key forges it).
  // Sequential: `openssl ca` keeps its serial and index in files.
  for (const [i, k] of cases.entries()) {
    let issuer = k.caCert;
    let ext = 'leaf';
    if (k.keyMatches === false) {
      // openssl ca refuses a key that does not match: sign through an impostor with ca-cert's name and
      // that key, and leave the AKI out so verification meets ca-cert and fails on the signature.
      issuer = `impostor-${i}`;
      ext = 'leaf_no_aki';
      await c.issue({ name: issuer, subject: '/O=Istio/CN=Cluster CA/L=cluster1', key: k.caKey, issuer: 'int', ext: 'ca_pathlen0' });
    }
    await c.issue({ name: `leaf-${i}`, subject: '/O=workload', key: 'leaf', issuer, issuerKey: k.caKey, ext, from: at(-1), to: at(1) });
  }
  // CAs with extendedKeyUsage, each with an mTLS workload leaf (serverAuth and clientAuth).
  for (const eku of EKU_CASES) {
    await c.issue({ name: `ca-eku-${eku}`, subject: `/O=Istio/CN=Cluster CA EKU ${eku}`, key: 'ca', issuer: 'int', ext: eku === 'none' ? 'ca_pathlen0' : `ca_eku_${eku}` });
    await c.issue({ name: `leaf-eku-${eku}`, subject: '/O=workload', key: 'leaf', issuer: `ca-eku-${eku}`, issuerKey: 'ca', ext: 'leaf_mtls', from: at(-1), to: at(1) });
  }
}, 60_000);

const EKU_CASES = ['none', 'server', 'client', 'both', 'any'] as const;

afterAll(async () => {
  if (corpus) await rm(corpus.dir, { recursive: true, force: true });
});

/** meshdoctor's classes: problems, plus `weak` for weaknesses (which openssl rejects from auth level 2). */
function meshdoctorClasses(verdict: ReturnType<typeof validateChain>): Reason[] {
  const classes: Reason[] = verdict.problems.map((p) => p.class);
  if (verdict.weaknesses.length) classes.push('weak');
  return [...new Set(classes)].sort();
}

/** openssl's classes: default level, and `weak` when it accepts the chain but rejects it at level 2. */
async function opensslClasses(root: string, untrusted: string[], target: string): Promise<{ verdict: OpensslVerdict; classes: Reason[] }> {
  const verdict = await opensslVerify(corpus, root, untrusted, target);
  const strict = await opensslVerify(corpus, root, untrusted, target, ['-auth_level', '2']);
  const classes = new Set(verdict.classes);
  if (strict.classes.includes('weak')) classes.add('weak');
  return { verdict, classes: [...classes].sort() };
}

describe('chain verdicts agree with openssl verify', () => {
  it('covers the whole corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(Array.from({ length: 23 }, (_v, i) => i))('case %i', async (index) => {
    const k = cases[index];
    if (!k) return;
    const roots = await certs(corpus, [k.root]);
    const chain = await certs(corpus, k.chain);
    const [target] = await certs(corpus, [k.caCert]);

    // ca-cert as openssl verifies it.
    const own = validateChain({ target, untrusted: chain, roots, now: NOW });
    const openssl = await opensslClasses(k.root, k.chain, k.caCert);
    expect({ case: k.name, valid: own.valid, classes: meshdoctorClasses(own) }).toEqual({ case: k.name, valid: openssl.verdict.ok, classes: openssl.classes });
    expect(meshdoctorClasses(own)).toEqual([...k.expect].sort());

    // ca-cert as the CA of workload certificates: openssl verifying a leaf it issued.
    const asIssuer = validateChain({ target, untrusted: chain, roots, now: NOW, targetIsCa: true });
    const leafVerdict = await opensslClasses(k.root, [...k.chain, k.caCert], `leaf-${index}`);
    const keyText = await readFile(corpus.file(`${k.caKey}.key`), 'utf8');
    const key = privateKeyFacts(keyText);
    expect(key.kind).toBe('key');
    const keyMatches = key.kind === 'key' && key.spkiSha256 === certificateSpkiSha256(target);
    // A leaf signed with a key that is not ca-cert's fails its signature: meshdoctor calls it a key mismatch.
    const issuerClasses = [...meshdoctorClasses(asIssuer), ...(keyMatches ? [] : (['signature'] as Reason[]))].sort();
    expect({ case: k.name, classes: issuerClasses }).toEqual({ case: k.name, classes: leafVerdict.classes });
    expect(issuerClasses).toEqual([...k.expectAsIssuer].sort());
    expect(keyMatches).toBe(k.keyMatches ?? true);

    // openssl's own key comparison agrees.
    const { stdout: certKey } = await run('openssl', ['x509', '-in', corpus.file(`${k.caCert}.pem`), '-noout', '-pubkey']);
    const { stdout: privKey } = await run('openssl', ['pkey', '-in', corpus.file(`${k.caKey}.key`), '-pubout']);
    expect(certKey === privKey).toBe(keyMatches);

    // Order is not openssl's concern (it searches -untrusted), but Istio sends cert-chain.pem as is.
    const linked = !k.expect.includes('untrusted') && !k.expect.includes('signature');
    if (k.chain.length > 0 && linked) expect(chainOrder(target, chain).kind).toBe(k.wrongOrder ? 'wrong-order' : 'in-order');
  });
});

describe('CA extendedKeyUsage agrees with openssl verify -purpose sslclient/sslserver', () => {
  it.each(EKU_CASES)('CA EKU %s', async (eku) => {
    const untrusted = [`ca-eku-${eku}`, 'int'];
    const client = await opensslVerify(corpus, 'root', untrusted, `leaf-eku-${eku}`, ['-purpose', 'sslclient']);
    const server = await opensslVerify(corpus, 'root', untrusted, `leaf-eku-${eku}`, ['-purpose', 'sslserver']);
    const [ca] = await certs(corpus, [`ca-eku-${eku}`]);
    // An mTLS workload certificate must verify for both purposes; meshdoctor flags the CA otherwise.
    expect({ eku, restricted: ekuRestriction(ca) !== undefined }).toEqual({ eku, restricted: !(client.ok && server.ok) });
    expect(ekuRestriction(ca) !== undefined).toBe(eku !== 'none' && eku !== 'both');
  });
});

describe('a partial-chain anchor (a non-self-signed intermediate as root-cert.pem)', () => {
  it('openssl rejects it without -partial_chain and accepts it with; meshdoctor validates the path and the chain check warns', async () => {
    const [target] = await certs(corpus, ['ca']);
    const roots = await certs(corpus, ['int']);
    const verdict = validateChain({ target, untrusted: [], roots, now: NOW, targetIsCa: true });
    expect(verdict.valid).toBe(true);
    expect(isSelfIssued(verdict.path.at(-1)!)).toBe(false);
    const strict = await opensslVerify(corpus, 'int', [], 'ca');
    expect(strict.ok).toBe(false);
    expect(strict.classes).toEqual(['untrusted']);
    expect((await opensslVerify(corpus, 'int', [], 'ca', ['-partial_chain'])).ok).toBe(true);
  });
});
