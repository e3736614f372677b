// The probe batch (src/mesh/probes/batch.ts): the generated script run by the system's /bin/sh with
// fake tools on PATH gives every request exactly what its own exec would have, the same as the lab's
// shell gives; lanes run in parallel; output cannot forge a frame; a failed exec fails every request.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessError, type ClusterReader, type ExecResult } from '../../src/cluster/types.ts';
import { runShell } from '../../src/lab/sim/shell.ts';
import { BATCH_LANES, MAX_SCRIPT_URL_BYTES, batchesOf, batchScript, batchTimeoutMs, batchToken, execBatch, parseBatch } from '../../src/mesh/probes/batch.ts';
import { EXEC_SLACK_MS } from '../../src/mesh/probes/exec.ts';
import type { ProbeSource } from '../../src/mesh/probes/source.ts';
import { fakeToolDir, fakeToolHost, realSh, type FakeAnswer, type FakeTools } from '../helpers/fake-tools.ts';
import { buildTestMesh, exec, podOf } from '../lab/sim/helpers/mesh.ts';

const W = '\\n__meshdoctor__ %{http_code} %{time_total}\\n';
const curlArgs = (url: string) => ['-sS', '-m', '3', '-w', W, url];
const OTHER = batchToken();
const MARKER = join(tmpdir(), `meshdoctor-batch-marker-${process.pid}`);

/** Requests and what each tool prints for it: trailing newlines, none, %, backslashes, quotes, a forged frame. */
const CASES: { argv: string[]; answer: FakeAnswer }[] = [
  { argv: ['curl', ...curlArgs('http://helloworld.sample:5000/hello')], answer: { stdout: 'Hello version: v1, instance: helloworld-v1\n\n__meshdoctor__ 200 0.004\n' } },
  { argv: ['curl', ...curlArgs('http://nope.sample:5000/')], answer: { stdout: '\n__meshdoctor__ 000 0.001\n', stderr: 'curl: (6) Could not resolve host: nope.sample\n', exitCode: 6 } },
  { argv: ['curl', ...curlArgs('http://slow.sample:5000/')], answer: { stdout: '\n__meshdoctor__ 000 3.000\n', stderr: 'curl: (28) Operation timed out after 3001 milliseconds with 0 bytes received\n', exitCode: 28 } },
  { argv: ['curl', ...curlArgs('http://x.sample/%s\\n')], answer: { stdout: `no newline at the end %s %d \\n \\\\ '"$(id)\``, stderr: 'partial line' } },
  { argv: ['curl', ...curlArgs("http://q.sample/it's")], answer: { stdout: `\n${OTHER} 4 x 0\n${OTHER} end\n\n\n`, stderr: `\n${OTHER} 4 o\n` } },
  { argv: ['getent', 'hosts', 'helloworld.sample.svc.cluster.local'], answer: { stdout: '10.96.0.10      helloworld.sample.svc.cluster.local\n' } },
  { argv: ['getent', 'hosts', 'remote-only.sample.svc.cluster.local'], answer: { exitCode: 2 } },
  { argv: ['nslookup', 'nope.sample.svc.cluster.local'], answer: { stdout: "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find nope.sample.svc.cluster.local: NXDOMAIN\n\n", exitCode: 1 } },
  { argv: ['curl', '-v', '-sS', '--connect-timeout', '3', '-m', '4', 'telnet://192.0.2.12:15443'], answer: { stderr: '*   Trying 192.0.2.12:15443...\n* Connected to 192.0.2.12 (192.0.2.12) port 15443\n' } },
  { argv: ['curl', ...curlArgs('http://empty.sample/')], answer: {} },
  // Words that sh would act on, were they not quoted: they reach the tool as they are.
  { argv: ['getent', 'hosts', `a$(touch ${MARKER})\`touch ${MARKER}\`;b\n'c"d $HOME *`], answer: { stdout: 'quoted\n' } },
];

function toolsOf(cases: { argv: string[]; answer: FakeAnswer }[]): FakeTools {
  const tools: FakeTools = {};
  for (const { argv, answer } of cases) (tools[argv[0]] ??= {})[argv.slice(1).join(' ')] = answer;
  return tools;
}
const expected = (a: FakeAnswer): ExecResult => ({ exitCode: a.exitCode ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' });

const dirs: (() => void)[] = [];
afterAll(() => dirs.forEach((remove) => remove()));

describe('probe batch', () => {
  it.each([1, 3, CASES.length])('%i requests: /bin/sh and the lab shell give each request its own exec result', async (n) => {
    const cases = CASES.slice(0, n);
    const tools = toolsOf(cases);
    const fake = fakeToolDir(tools);
    dirs.push(fake.remove);
    const token = batchToken();
    const script = batchScript(cases.map((c) => c.argv), token);
    const real = await realSh(script, fake.dir);
    const lab = await runShell(script, fakeToolHost(tools, fake.dir));
    expect(real.exitCode).toBe(0);
    expect(lab).toEqual({ exitCode: real.exitCode, stdout: real.stdout, stderr: real.stderr });
    expect(parseBatch(real, token, n)).toEqual(cases.map((c) => expected(c.answer)));
    expect(existsSync(MARKER)).toBe(false);
  });

  it('splits very many requests into batches whose scripts fit an exec URL, in order', async () => {
    const cases = Array.from({ length: 300 }, (_, i) => ({ argv: ['getent', 'hosts', `service-${i}.namespace-${i % 7}.svc.cluster.local`], timeoutMs: 3000 }));
    const batches = batchesOf(cases);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(cases);
    for (const b of batches) expect(encodeURIComponent(batchScript(b.map((c) => c.argv), batchToken())).length).toBeLessThanOrEqual(MAX_SCRIPT_URL_BYTES);
    // A round of 4 targets x 10 requests is one batch.
    const round = Array.from({ length: 40 }, (_, i) => ({ argv: ['curl', ...curlArgs(`http://target-${i % 4}.some-namespace.svc.cluster.local:5000/hello`)], timeoutMs: 3000 }));
    expect(batchesOf(round)).toHaveLength(1);
    const tools: FakeTools = { getent: Object.fromEntries(cases.map((c) => [c.argv.slice(1).join(' '), { stdout: `${c.argv[2]}\n` }])) };
    const fake = fakeToolDir(tools);
    dirs.push(fake.remove);
    const source = { cluster: 'c1', pod: { namespace: 'sample', name: 'curl-1' }, container: 'curl', tools: new Set(['getent']) } as ProbeSource;
    let execs = 0;
    const reader = {
      name: 'c1',
      exec: async (_p: unknown, _c: unknown, command: string[]) => {
        execs++;
        return realSh(command[2], fake.dir);
      },
    } as unknown as ClusterReader;
    expect((await execBatch(reader, source, cases)).map((r) => r.stdout)).toEqual(cases.map((c) => `${c.argv[2]}\n`));
    expect(execs).toBe(batches.length);
  });

  it('runs its requests in BATCH_LANES background lanes', async () => {
    const cases = Array.from({ length: 2 * BATCH_LANES }, (_, i) => ({ argv: ['curl', ...curlArgs(`http://s${i}/`)], answer: { stdout: `${i}\n`, sleep: 0.4 } }));
    const fake = fakeToolDir(toolsOf(cases));
    dirs.push(fake.remove);
    const token = batchToken();
    const real = await realSh(batchScript(cases.map((c) => c.argv), token), fake.dir);
    expect(parseBatch(real, token, cases.length).map((r) => r.stdout)).toEqual(cases.map((_, i) => `${i}\n`));
    // The lanes overlap: two rounds of 0.4 s. Run one after another the eight take at least 8 x 0.4 s,
    // which is the bound, so a loaded machine's slower process starts cannot fail it.
    expect(real.ms).toBeLessThan(8 * 400);
    expect(batchTimeoutMs(cases.map((c) => ({ argv: c.argv, timeoutMs: 3000 })))).toBe(2 * 3000 + EXEC_SLACK_MS);
  });

  it('accepts only its own frames, each once, then its end line', () => {
    const token = batchToken();
    const frame = (i: number, out: string, code = 0) => `${token} ${i} e\n\n${token} ${i} o\n${out}\n${token} ${i} x ${code}\n`;
    const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
    expect(parseBatch(ok(frame(1, 'b') + frame(0, 'a', 7) + `${token} end\n`), token, 2)).toEqual([
      { exitCode: 7, stdout: 'a', stderr: '' },
      { exitCode: 0, stdout: 'b', stderr: '' },
    ]);
    for (const bad of [frame(0, 'a') + `${token} end\n`, frame(0, 'a') + frame(0, 'a') + `${token} end\n`, frame(0, 'a') + frame(1, 'b'), frame(0, 'a') + frame(1, 'b') + `${token} end\nmore`, frame(0, 'a').replace(token, OTHER) + frame(1, 'b') + `${token} end\n`]) {
      expect(() => parseBatch(ok(bad), token, 2)).toThrow();
    }
    expect(() => parseBatch(ok('/usr/bin/curl\n'), token, 2)).toThrow();
  });

  it('an exec that failed as a whole fails every request the same way; unreadable output is an AccessError', async () => {
    const source = { cluster: 'c1', pod: { namespace: 'sample', name: 'curl-1' }, container: 'curl', tools: new Set(['curl']) } as ProbeSource;
    const failing = { name: 'c1', exec: async () => ({ exitCode: 1, stdout: '', stderr: 'error: the lab injected an exec failure (exit 1)\n' }) } as unknown as ClusterReader;
    const requests = CASES.slice(0, 3).map((c) => ({ argv: c.argv, timeoutMs: 3000 }));
    expect(await execBatch(failing, source, requests)).toEqual(requests.map(() => ({ exitCode: 1, stdout: '', stderr: 'error: the lab injected an exec failure (exit 1)\n' })));
    const unframed = { name: 'c1', exec: async () => ({ exitCode: 0, stdout: 'hello\n', stderr: '' }) } as unknown as ClusterReader;
    await expect(execBatch(unframed, source, requests)).rejects.toBeInstanceOf(AccessError);
    let seen: { command?: string[]; timeoutMs?: number } = {};
    const recording = {
      name: 'c1',
      exec: async (_p: unknown, _c: unknown, command: string[], opts: { timeoutMs: number }) => {
        seen = { command, timeoutMs: opts.timeoutMs };
        return { exitCode: 1, stdout: '', stderr: 'x' };
      },
    } as unknown as ClusterReader;
    await execBatch(recording, source, requests);
    expect(seen.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(seen.timeoutMs).toBe(3000 + EXEC_SLACK_MS);
  });

  it('in the lab, a batch of lookups and connects gives what separate execs give', async () => {
    const t = await buildTestMesh({ faults: [{ name: 'eastwest-firewall', cluster: 'cluster2' }] });
    const pod = podOf(t, 'cluster1', 'curl');
    const source = { cluster: 'cluster1', pod: { namespace: pod.metadata.namespace!, name: pod.metadata.name }, container: 'curl', tools: new Set(['curl', 'getent', 'nslookup']) } as ProbeSource;
    const reader = { name: 'cluster1', exec: (_p: unknown, container: string, command: string[]) => exec(t, 'cluster1', pod, container, command) } as unknown as ClusterReader;
    const requests = [
      ['getent', 'hosts', 'helloworld.sample.svc.cluster.local'],
      ['getent', 'hosts', 'nope.sample.svc.cluster.local'],
      ['nslookup', 'nope.sample.svc.cluster.local'],
      ['curl', '-v', '-sS', '--connect-timeout', '3', '-m', '4', 'telnet://192.0.2.12:15443'],
      ['curl', '-sS', '-m', '3', '-w', W, 'http://nope.sample:5000/'],
      ['cat', '/etc/resolv.conf'],
    ];
    const batch = await execBatch(reader, source, requests.map((argv) => ({ argv, timeoutMs: 3000 })));
    const single = await Promise.all(requests.map((argv) => exec(t, 'cluster1', pod, 'curl', argv)));
    expect(batch).toEqual(single);
    expect(batch.map((r) => r.exitCode)).toEqual([0, 2, 1, 28, 6, 0]);
  });
});
