// The lab API server as REAL kubectl (1.32, via the Cloud SDK dispatcher on PATH) sees it.
// Skipped when kubectl is missing, unless MESHDOCTOR_REQUIRE_KUBECTL=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startApiServer } from '../../../src/lab/server/index.ts';
import type { LabApiServer } from '../../../src/lab/types.ts';
import { ADMIN_TOKEN, FakeBackend, LIMITED, LIMITED_TOKEN } from './fake-backend.ts';
import { writeKubeconfig } from './helpers.ts';

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const kubectlPath = findOnPath('kubectl');
const required = process.env.MESHDOCTOR_REQUIRE_KUBECTL === '1';

describe('kubectl availability', () => {
  it.runIf(required)('kubectl is on PATH (MESHDOCTOR_REQUIRE_KUBECTL=1)', () => {
    expect(kubectlPath).toBeDefined();
  });
});

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!kubectlPath)('real kubectl against the lab API server', () => {
  let server: LabApiServer;
  const dirs: string[] = [];
  let adminConfig: { path: string; dir: string };
  let limitedConfig: { path: string; dir: string };

  beforeAll(async () => {
    server = await startApiServer({ cluster: 'cluster1' });
    server.setBackend(new FakeBackend());
    adminConfig = writeKubeconfig(server.endpoint, ADMIN_TOKEN);
    limitedConfig = writeKubeconfig(server.endpoint, LIMITED_TOKEN);
    dirs.push(adminConfig.dir, limitedConfig.dir);
  });
  afterAll(async () => {
    await server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Run kubectl with its own kubeconfig and HOME, so no discovery cache leaks between runs. */
  function kubectl(args: string[], config = adminConfig): Promise<KubectlResult> {
    return new Promise((resolve) => {
      execFile(
        kubectlPath as string,
        args,
        { env: { ...process.env, KUBECONFIG: config.path, HOME: config.dir }, timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  it('get pods -A prints a table of every pod', async () => {
    const r = await kubectl(['get', 'pods', '-A']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(lines[1].split(/\s+/).slice(0, 5)).toEqual(['istio-system', 'istiod-5d7f8b9c4-abcde', '1/1', 'Running', '0']);
    expect(lines[2].split(/\s+/).slice(0, 3)).toEqual(['sample', 'helloworld-v1-7d8f9-xyz12', '2/2']);
  });

  it('get pods -A -o wide --show-labels adds IP, node and labels', async () => {
    const r = await kubectl(['get', 'pods', '-A', '-o', 'wide', '--show-labels']);
    expect(r.code).toBe(0);
    const [header, , hello] = r.stdout.trim().split('\n');
    expect(header).toMatch(/IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\s+LABELS/);
    expect(hello).toContain('10.10.0.9');
    expect(hello).toContain('node-1');
    expect(hello).toMatch(/app=helloworld,version=v1$/);
  });

  it('get secrets with a label selector', async () => {
    const r = await kubectl(['get', 'secrets', '-n', 'istio-system', '-l', 'istio/multiCluster=true']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1].split(/\s+/).slice(0, 3)).toEqual(['istio-remote-secret-cluster2', 'Opaque', '1']);
  });

  it('get gateways.networking.istio.io -A -o yaml', async () => {
    const r = await kubectl(['get', 'gateways.networking.istio.io', '-A', '-o', 'yaml']);
    expect(r.code).toBe(0);
    const doc = parseYaml(r.stdout);
    expect(doc.kind).toBe('List');
    expect(doc.items).toHaveLength(1);
    expect(doc.items[0]).toMatchObject({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'cross-network-gateway' } });
    expect(doc.items[0].spec.servers[0].tls.mode).toBe('AUTO_PASSTHROUGH');
  });

  it('get svc -o json', async () => {
    const r = await kubectl(['get', 'svc', '-n', 'istio-system', '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(['istiod']);
    expect(list.items[0].spec.ports[1].port).toBe(15014);
  });

  it('exec prints the command output', async () => {
    const r = await kubectl(['exec', '-n', 'sample', 'helloworld-v1-7d8f9-xyz12', '-c', 'helloworld', '--', 'echo', 'hello', 'from', 'the', 'lab']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello from the lab\n');
  });

  it('exec exits with the exit code of the command', async () => {
    const r = await kubectl(['exec', '-n', 'sample', 'helloworld-v1-7d8f9-xyz12', '-c', 'helloworld', '--', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('partial output\n');
    expect(r.stderr).toContain('command terminated with exit code 3');
  });

  it('delete pod is refused with 405 and audited', async () => {
    const r = await kubectl(['delete', 'pod', '-n', 'sample', 'helloworld-v1-7d8f9-xyz12', '--wait=false']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('MethodNotAllowed');
    expect(server.audit.some((a) => a.method === 'DELETE' && a.status === 405 && a.verb === 'delete')).toBe(true);
  });

  it('shows the forbidden message to an RBAC-limited user', async () => {
    const r = await kubectl(['get', 'secrets', '-n', 'istio-system'], limitedConfig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Error from server (Forbidden): secrets is forbidden: User "${LIMITED.name}" cannot list resource "secrets" in API group "" in the namespace "istio-system"`,
    );
    const can = await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'istio-system'], limitedConfig);
    expect(can.stdout.trim()).toBe('no');
  });
});
