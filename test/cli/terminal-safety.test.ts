// Data from a cluster never reaches a terminal raw: a remote secret's key (the peer's name) and
// server, an object's name and a namespace's label carry ESC/CSI/OSC sequences, CR LF and a bidi
// override. The human report, stderr notes and --wait lines show them as visible escapes, one line
// each; hint commands stay one line with the value shell-quoted; JSON stays faithful (and printable);
// JUnit carries nothing XML forbids.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { validateXML } from 'xmllint-wasm';
import { type RunningLab } from '../../src/lab/index.ts';
import { startCliLab } from './cli-lab.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { LabMeshState } from '../../src/lab/types.ts';
import type { Report } from '../../src/engine/types.ts';
import { runCliInProcess, type CliRun } from './run-cli.ts';

/** ESC sequences (clear screen, set the title), CR LF with a forged report line, a bidi override. */
const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007\r\nforged ✔ line\u202eevil';
const PEER_KEY = `peer${HOSTILE}`;
const SE_NAME = `se${HOSTILE}`;
const NETWORK = `net${HOSTILE}`;

// C0 but tab and newline, DEL, C1, bidi controls, line separators: none may reach a terminal.
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// What XML 1.0 cannot carry, escaped or not.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

const dir = mkdtempSync(path.join(tmpdir(), 'meshdoctor-terminal-'));
let lab: RunningLab;
let run: CliRun;

const b64 = (text: string) => Buffer.from(text).toString('base64');

function remoteSecret(name: string, key: string, server: string, caPem: string, token: string): KubeObject {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'peer', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: 'peer', user: { token } }],
    contexts: [{ name: 'peer', context: { cluster: 'peer', user: 'peer' } }],
    'current-context': 'peer',
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' }, uid: `uid-${name}`, resourceVersion: '1' },
    type: 'Opaque',
    data: { [key]: b64(YAML.stringify(kubeconfig)) },
  };
}

function hostileObjects(mesh: LabMeshState): Record<string, KubeObject[]> {
  const [cluster1, cluster2] = mesh.clusters;
  const readerSecret = cluster2.objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'istio-reader-service-account-istio-remote-secret-token')!;
  const readerToken = Buffer.from(String(readerSecret.data!.token), 'base64').toString('utf8');
  // A namespace label meshdoctor shows (the network of cluster1).
  const istioSystem = cluster1.objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'istio-system')!;
  istioSystem.metadata.labels = { ...istioSystem.metadata.labels, 'topology.istio.io/network': NETWORK };
  return {
    cluster1: [
      // A usable peer whose name (the data key) is hostile: it becomes a cluster of the run.
      remoteSecret('istio-remote-secret-hostile-name', PEER_KEY, cluster2.endpoint.server.replace('127.0.0.1', 'localhost'), cluster2.endpoint.caPem, readerToken),
      // A peer whose server is hostile: refused, and named in a note.
      remoteSecret('istio-remote-secret-hostile-server', 'bad-server', `https://evil.example:6443${HOSTILE}`, cluster2.endpoint.caPem, readerToken),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: SE_NAME, namespace: 'default', uid: 'uid-se', resourceVersion: '1' },
        spec: { hosts: ['reviews.default.global'], location: 'MESH_INTERNAL', resolution: 'DNS', ports: [{ number: 9080, name: 'http', protocol: 'HTTP' }] },
      },
    ],
  };
}

beforeAll(async () => {
  lab = await startCliLab({ scenario: 'multi-primary', objects: hostileObjects });
  run = await runCliInProcess([
    'all',
    '--kubeconfig',
    lab.kubeconfigPath,
    // The hostile-name peer is the lab's cluster2 on this machine's loopback (named localhost): read only with the opt-in.
    '--allow-loopback-remote-secrets',
    '--skip',
    'connectivity',
    '--wait',
    '6s',
    '-o',
    'human',
    '-o',
    `json=${path.join(dir, 'report.json')}`,
    '-o',
    `junit=${path.join(dir, 'report.xml')}`,
  ]);
}, 90_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile names, labels and servers from a cluster', () => {
  it('the human report and stderr carry no raw control, escape or bidi character, and no forged line', () => {
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect([1, 3]).toContain(run.exitCode);
    expect(run.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(run.stderr).not.toMatch(TERMINAL_CONTROLS);
    for (const text of [run.stdout, run.stderr]) expect(text.split('\n').filter((line) => /^\s*(forged|note: forged)/.test(line))).toEqual([]);
    // Every stderr line is one of meshdoctor's own.
    for (const line of run.stderr.trimEnd().split('\n')) expect(line).toMatch(/^(note|waiting): /);
  });

  it('shows the values with their escapes visible', () => {
    const visible = '\\x1b[2J\\x1b]0;pwned\\x07\\r\\nforged ✔ line\\u202eevil';
    // The peer named by the hostile key, in the topology table and in its results.
    expect(run.stdout).toContain(`peer${visible}`);
    // The network label.
    expect(run.stdout).toContain(`net${visible}`);
    // The refused server, in discovery's note.
    expect(run.stderr).toContain(`note: cluster bad-server of remote secret istio-system/istio-remote-secret-hostile-server not probed: its server "https://evil.example:6443${visible}" is not an http(s) URL`);
  });

  it('a hint command stays one line, with the hostile name single-quoted', () => {
    const hints = run.stdout.split('\n').filter((line) => line.includes('hint: Delete it: kubectl --context=cluster1 delete serviceentry -n default'));
    // Once among the root causes, once in the listing.
    const quoted = expect.stringContaining(`kubectl --context=cluster1 delete serviceentry -n default 'se\\x1b[2J\\x1b]0;pwned\\x07\\r\\nforged ✔ line\\u202eevil'. `);
    expect(hints).toEqual([quoted, quoted]);
  });

  it('JSON stays faithful to the data, with C1 and bidi controls \\u-escaped so it prints safely', () => {
    const text = readFileSync(path.join(dir, 'report.json'), 'utf8');
    expect(text).not.toMatch(TERMINAL_CONTROLS);
    const report = JSON.parse(text) as Report;
    const finding = report.results.flatMap((r) => r.findings).find((f) => f.checkId === 'services/legacy-global' && f.messageId === 'globalServiceEntry')!;
    expect(finding.resource?.name).toBe(SE_NAME);
    // The hint is the command, quoted for a shell: the raw value inside single quotes.
    expect(finding.hint).toContain(`kubectl --context=cluster1 delete serviceentry -n default 'se${HOSTILE}'. `);
    expect(report.clusters.map((c) => c.name)).toContain(PEER_KEY);
  });

  it('JUnit holds no character XML forbids and is well-formed', async () => {
    const xml = readFileSync(path.join(dir, 'report.xml'), 'utf8');
    expect(xml).not.toMatch(NOT_XML);
    const result = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], normalization: 'format' });
    expect(result.errors).toEqual([]);
  });
});
