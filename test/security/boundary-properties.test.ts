// Property-based tests of the security boundary (issue 11): generated and mutated input against the
// three functions everything from a cluster passes through on its way to the operator's machine:
// the loader of kubeconfigs found in cluster data, the terminal escaping and the shell quoting of
// hint values. The example-based tests next to each function pin the cases we thought of; these
// look for the ones we did not. Fixed seeds keep a failure reproducible.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadUntrustedKubeconfig, type UntrustedKubeconfig } from '../../src/cluster/untrusted-kubeconfig.ts';
import { fillTemplate } from '../../src/engine/run.ts';
import { createServingIdentity } from '../../src/lab/pki.ts';
import { redactSecrets, terminalLines, terminalText } from '../../src/reporters/sanitize.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

// Characters and sequences that have hurt terminals, shells, URL parsers and header writers.
const HOSTILE_PIECES = [
  '\u001b[2J', '\u001b]0;pwned\u0007', '\u001b', '\r', '\n', '\r\n', '\t', '\u0000', '\u0007', '\u0085', '\u009b', '\u007f',
  '\u061c', '\u200e', '\u202e', '\u2066', '\u2028', '\u2029', '\ufeff', ' ', "'", '"', '`', '$(', ')', '\\', '!', '*', '#', ';',
  '|', '&', '<', '>', '~', '{', '}', '[', ']', '%', '=', '-', '@', ':', '/', '🙂', 'ñ', 'e\u0301', '\ud83d\ude00',
];
const hostileUnit = fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
/** Short hostile text, arbitrary Unicode, or a long repetition of either. */
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: hostileUnit, maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: hostileUnit, minLength: 1, maxLength: 5 }), fc.integer({ min: 100, max: 4000 })).map(([s, n]) => s.repeat(n)) },
);

describe('loadUntrustedKubeconfig on generated and mutated kubeconfigs', () => {
  const USER_UNSAFE = ['exec', 'auth-provider', 'token-file', 'tokenFile', 'client-certificate', 'client-key'];
  const CLUSTER_UNSAFE = ['certificate-authority', 'proxy-url'];
  const USER_UNSUPPORTED = ['username', 'password', 'as', 'as-uid', 'as-groups', 'as-user-extra'];
  const CREDENTIAL_KEYS = ['server', 'caPem', 'insecureSkipTlsVerify', 'tlsServerName', 'token', 'clientCertPem', 'clientKeyPem'];
  // What a file named by the kubeconfig holds, and what a plugin it names would create: neither
  // may ever show up.
  const FILE_SECRET = 'local-file-secret-7f3a9c';
  let dir: string;
  let marker: string;
  let files: { token: string; cert: string; key: string; ca: string };
  let pem: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'meshdoctor-untrusted-prop-'));
    marker = path.join(dir, 'MARKER');
    const { ca, serving } = await createServingIdentity('peer');
    pem = { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem };
    files = { token: path.join(dir, 'token'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
    writeFileSync(files.token, FILE_SECRET);
    writeFileSync(files.cert, `${pem.cert}# ${FILE_SECRET}\n`);
    writeFileSync(files.key, `${pem.key}# ${FILE_SECRET}\n`);
    writeFileSync(files.ca, `${pem.ca}# ${FILE_SECRET}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Any YAML value, empty ones included (null and '' mean "not set"). */
  const anyValue = fc.oneof(hostileString, fc.jsonValue({ maxDepth: 2 }), fc.constant(null), fc.constant(''));

  function kubeconfigs() {
    const fileValue = fc.oneof(fc.constantFrom(...Object.values(files)), anyValue);
    const touch = ['-c', `touch ${marker}`];
    const user = fc.record(
      {
        exec: fc.oneof(fc.constant({ apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: touch }), anyValue),
        'auth-provider': fc.oneof(
          fc.record({ name: fc.oneof(fc.constantFrom('gcp', 'oidc', 'azure'), hostileString), config: fc.constant({ 'cmd-path': '/bin/sh', 'cmd-args': touch.join(' '), 'id-token': 'x' }) }),
          anyValue,
        ),
        token: fc.oneof(fc.constantFrom('abc.def', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'), hostileString, anyValue),
        tokenFile: fileValue,
        'token-file': fileValue,
        'client-certificate': fileValue,
        'client-key': fileValue,
        'client-certificate-data': fc.oneof(fc.constant(b64(pem.cert)), fc.constant(b64(pem.ca)), hostileString.map(b64), anyValue),
        'client-key-data': fc.oneof(fc.constant(b64(pem.key)), hostileString.map(b64), anyValue),
        username: anyValue,
        password: anyValue,
        as: anyValue,
        'as-uid': anyValue,
        'as-groups': fc.oneof(fc.array(hostileString, { maxLength: 2 }), anyValue),
        'as-user-extra': anyValue,
        impersonate: anyValue,
      },
      { requiredKeys: [] },
    );
    const server = fc.oneof(
      fc.constantFrom('https://10.0.0.2:6443', 'https://api.peer.example/', 'http://10.0.0.2:8080', 'https://[::1]:6443', 'file:///etc/passwd', 'https://user:pass@10.0.0.2', 'not a url', '//10.0.0.2', 'https://', 'ftp://10.0.0.2'),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.constantFrom('https://10.0.0.2:6443', 'https://', ''), hostileString).map(([a, b]) => a + b),
      fc.integer({ min: 1, max: 5000 }).map((n) => `https://${'a'.repeat(n)}.example`),
      anyValue,
    );
    const cluster = fc.record(
      {
        server,
        'certificate-authority': fileValue,
        'certificate-authority-data': fc.oneof(fc.constant(b64(pem.ca)), fc.constant(b64(pem.ca.repeat(3))), hostileString.map(b64), anyValue),
        'proxy-url': fc.oneof(fc.constantFrom('http://127.0.0.1:3128', 'socks5://127.0.0.1:1080'), anyValue),
        'insecure-skip-tls-verify': fc.oneof(fc.boolean(), anyValue),
        'tls-server-name': fc.oneof(fc.constant('api.peer'), hostileString),
      },
      { requiredKeys: ['server'] },
    );
    const doc = fc.record({
      cluster,
      user,
      otherUsers: fc.array(user, { maxLength: 2 }),
      currentContext: fc.oneof({ weight: 8, arbitrary: fc.constant('peer') }, { weight: 1, arbitrary: fc.constantFrom(undefined, 'other') }, { weight: 1, arbitrary: hostileString }),
      userRef: fc.oneof({ weight: 8, arbitrary: fc.constant('peer') }, { weight: 1, arbitrary: fc.constantFrom(undefined, 'missing') }),
      json: fc.boolean(),
    });
    // Mutations of the text itself: cut anywhere, or hostile text inserted anywhere.
    const mutation = fc.option(fc.tuple(fc.nat(), fc.oneof(fc.constant(''), hostileString), fc.boolean()), { freq: 4 });
    return fc.tuple(doc, mutation).map(([d, m]) => {
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'peer', cluster: d.cluster }],
        users: [{ name: 'peer', user: d.user }, ...d.otherUsers.map((u, i) => ({ name: `other-${i}`, user: u }))],
        contexts: [{ name: 'peer', context: { cluster: 'peer', ...(d.userRef ? { user: d.userRef } : {}) } }],
        ...(d.currentContext === undefined ? {} : { 'current-context': d.currentContext }),
      };
      let text = d.json ? JSON.stringify(config, null, 1) : YAML.stringify(config);
      if (m) {
        const [at, inserted, cut] = m;
        const offset = at % (text.length + 1);
        text = cut ? text.slice(0, offset) : text.slice(0, offset) + inserted + text.slice(offset);
      }
      return text;
    });
  }

  type Fields = Record<string, unknown>;
  /** The current context's cluster and user as the kubeconfig format defines them, read with the YAML library on its own. */
  function currentEntries(text: string): { cluster: Fields; user: Fields; server: string } | undefined {
    let doc: unknown;
    try {
      doc = YAML.parse(text);
    } catch {
      return undefined;
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
    const config = doc as Fields;
    const list = (key: string) => (Array.isArray(config[key]) ? (config[key] as Fields[]).filter((e) => e && typeof e === 'object') : []);
    const name = config['current-context'];
    if (typeof name !== 'string' || !name) return undefined;
    const context = list('contexts').find((c) => c.name === name)?.context as Fields | undefined;
    const cluster = list('clusters').find((c) => c.name === context?.cluster)?.cluster as Fields | undefined;
    const userName = context?.user;
    const user = list('users').find((u) => u.name === userName)?.user as Fields | undefined;
    if (!cluster || (userName && !user) || typeof cluster.server !== 'string' || !cluster.server) return undefined;
    const fields = (v: unknown): Fields => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Fields) : {});
    return { cluster: fields(cluster), user: fields(user), server: cluster.server };
  }

  const present = (value: unknown) => value !== undefined && value !== null && value !== '';
  const pemOf = (value: unknown) => (typeof value === 'string' && value ? Buffer.from(value, 'base64').toString('utf8') : undefined);

  /**
   * A server meshdoctor connects to as written: http(s), visible ASCII only, no credentials in the URL;
   * a query or fragment dropped as client-go drops them (requests then go to the written host and path prefix).
   */
  function expectConnectableServer(server: string, written: string) {
    expect(server).toMatch(/^https?:\/\/[\x21-\x7e]+$/);
    const url = new URL(server);
    expect([url.username, url.password, url.search, url.hash]).toEqual(['', '', '', '']);
    const asWritten = /[?#]/.test(written) ? `${new URL(written).origin}${new URL(written).pathname}` : written;
    expect(server).toBe(asWritten.replace(/\/+$/, ''));
  }

  it('never runs, reads or proxies anything: a refusal of the right kind, or inline credentials and a server as written', () => {
    fc.assert(
      fc.property(kubeconfigs(), (text) => {
        const result: UntrustedKubeconfig = loadUntrustedKubeconfig(text);
        expect(existsSync(marker)).toBe(false);
        expect(JSON.stringify(result)).not.toContain(FILE_SECRET);
        const entries = currentEntries(text);
        if (!entries) {
          expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^unusable kubeconfig: /) });
          return;
        }
        const { cluster, user } = entries;
        const unsafe = [...USER_UNSAFE.filter((f) => present(user[f])), ...CLUSTER_UNSAFE.filter((f) => present(cluster[f]))];
        const unsupported = USER_UNSUPPORTED.filter((f) => present(user[f]));
        if (result.ok) {
          expect(unsafe).toEqual([]);
          expect(unsupported).toEqual([]);
          const { credentials } = result;
          expect(CREDENTIAL_KEYS).toEqual(expect.arrayContaining(Object.keys(credentials)));
          expectConnectableServer(credentials.server, entries.server);
          // Every credential is the inline value as written, nothing else.
          expect(credentials.caPem).toBe(pemOf(cluster['certificate-authority-data']));
          expect(credentials.token).toBe(present(user.token) ? user.token : undefined);
          if (credentials.token !== undefined) expect(credentials.token).toMatch(/^[\x21-\x7e]+$/);
          expect(credentials.clientCertPem).toBe(pemOf(user['client-certificate-data']));
          expect(credentials.clientKeyPem).toBe(pemOf(user['client-key-data']));
          return;
        }
        if (result.server !== undefined) expectConnectableServer(result.server, entries.server);
        if (unsafe.length) {
          expect(result.reason).toMatch(/^the kubeconfig uses .+: meshdoctor never runs a program, reads a local file or uses a proxy named by cluster data$/);
          for (const field of unsafe) expect(result.reason).toContain(field);
        } else if (unsupported.length) {
          expect(result.reason).toBe(`the kubeconfig uses ${unsupported.join(', ')}, which meshdoctor does not support for cluster data`);
        } else {
          expect(result.reason).toMatch(/^its (server .* is not an http\(s\) URL|token is not a valid bearer token|certificate-authority-data holds no PEM certificate|client certificate .*cannot be used|certificate-authority data cannot be used)|^it has client-certificate-data without client-key-data/s);
        }
      }),
      { seed: 11, numRuns: 150 },
    );
  });
});

describe('terminalText and terminalLines on arbitrary text', () => {
  // Everything but tab in C0, DEL, C1, bidi controls and the Unicode line/paragraph separators.
  // eslint-disable-next-line no-control-regex
  const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  // eslint-disable-next-line no-control-regex
  const UNSAFE_BUT_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
  const secretPieces = fc.constantFrom('Bearer ', 'Bearer s3cr3t-t0ken-value', 'eyJ', '.eyJ', '-----BEGIN PRIVATE KEY-----', `\n${KEY_BODY}\n`, '-----END PRIVATE KEY-----');
  const text = fc.oneof(
    fc.string({ unit: fc.oneof(hostileUnit, secretPieces), maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(...HOSTILE_PIECES), maxLength: 60 }),
  );

  it('terminalText: one line, no control character but tab, no ESC, no bidi control; idempotent; plain text unchanged', () => {
    fc.assert(
      fc.property(text, (input) => {
        const shown = terminalText(input);
        expect(shown).not.toMatch(UNSAFE);
        expect(terminalText(shown)).toBe(shown);
        if (!UNSAFE.test(input) && !/bearer|eyJ|PRIVATE KEY/i.test(input)) expect(shown).toBe(input);
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('terminalLines: meshdoctor\'s own newlines kept, nothing else unsafe, no private key material; idempotent', () => {
    fc.assert(
      fc.property(text, (input) => {
        const shown = terminalLines(input);
        expect(shown).not.toMatch(UNSAFE_BUT_NEWLINE);
        expect(terminalLines(shown)).toBe(shown);
        // A private key block spans lines: what redaction over the whole text leaves of its body is
        // all a line-by-line printer may show.
        const left = redactSecrets(input).split(KEY_BODY).length;
        expect(shown.split(KEY_BODY).length).toBe(left);
        expect(terminalText(input).split(KEY_BODY).length).toBe(left);
      }),
      { seed: 11, numRuns: 2000 },
    );
  });
});

describe('hint values quoted for the shell', () => {
  // One template per quoting context a placeholder can sit in; each prints <value> between markers.
  const TEMPLATES: [string, (v: string) => string][] = [
    ["printf '%s\\0' {{v}}", (v) => v],
    ["printf '%s\\0' x={{v}}", (v) => `x=${v}`],
    ["printf '%s\\0' \"<{{v}}>\"", (v) => `<${v}>`],
    ["printf '%s\\0' '<{{v}}>'", (v) => `<${v}>`],
  ];
  // A shell word cannot hold NUL (C strings); everything else must come through.
  const value = fc.oneof(fc.string({ unit: hostileUnit, maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 })).map((s) => s.replaceAll('\0', ''));

  it('bash prints every quoted value exactly, in every quoting context, and runs nothing', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'meshdoctor-quote-prop-'));
    try {
      fc.assert(
        fc.property(fc.array(value, { minLength: 50, maxLength: 50 }), (values) => {
          const lines = values.flatMap((v) => TEMPLATES.map(([template]) => fillTemplate(template, { v }, { shell: true })));
          const expected = values.flatMap((v) => TEMPLATES.map(([, want]) => `${want(v)}\0`)).join('');
          // One bash per batch of 200 commands; the C locale reads bytes as bytes.
          const run = spawnSync('bash', ['--norc', '--noprofile', '-c', lines.join('\n')], { cwd, env: { PATH: process.env.PATH, LC_ALL: 'C' } });
          expect(run.stderr.toString()).toBe('');
          expect(run.status).toBe(0);
          expect(run.stdout.toString('utf8')).toBe(expected);
          expect(readdirSync(cwd)).toEqual([]);
        }),
        { seed: 11, numRuns: 4 },
      );
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
