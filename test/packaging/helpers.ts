// Running things the way a user's shell would: a PATH that names exactly the directories given,
// exit code and output captured, nothing left running.
import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `file args` with `env` (PATH included: pass it explicitly) and a deadline. */
export function run(file: string, args: string[], opts: { env: Record<string, string | undefined>; cwd?: string; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** First executable `command` in the PATH directories `path`, skipping directories `exclude` rejects. */
export function findOnPath(command: string, path = process.env.PATH ?? '', exclude: (dir: string) => boolean = () => false): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    if (exclude(dir)) continue;
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

/**
 * The machine's own Node.js: the first `node` on PATH outside this repository (npm scripts put the
 * project's Node 24, node_modules/.bin, first).
 */
export function systemNode(): string | undefined {
  return findOnPath('node', process.env.PATH, (dir) => realpathOrSelf(dir).startsWith(realpathOrSelf(REPO_ROOT)));
}

/** The Node 24 of the `node` devDependency. */
export const NODE_24 = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');

/** kubectl 1.32 beside the `kubectl` on PATH (the Cloud SDK ships one binary per minor next to its dispatcher). */
export function kubectl132(): string | undefined {
  const dispatcher = findOnPath('kubectl');
  if (!dispatcher) return undefined;
  const versioned = join(dirname(realpathOrSelf(dispatcher)), 'kubectl.1.32');
  try {
    accessSync(versioned, constants.X_OK);
    return versioned;
  } catch {
    return undefined;
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `version` (e.g. v22.19.0) is at least `minimum` ([major, minor]). */
export function atLeast(version: string, minimum: [number, number]): boolean {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** The [major, minor] of package.json's engines.node (">=22.19.0"). */
export function enginesMinimum(engines: string): [number, number] {
  const match = /^>=(\d+)\.(\d+)\.\d+$/.exec(engines);
  if (!match) throw new Error(`engines.node is not of the form >=X.Y.Z: ${engines}`);
  return [Number(match[1]), Number(match[2])];
}

/** Error findings of a JSON report as `checkId [cluster] messageId`, sorted and unique. */
export function errorKeys(report: { results: { checkId: string; cluster: string; findings: { severity: string; messageId: string }[] }[] }): string[] {
  const keys = report.results.flatMap((r) => r.findings.filter((f) => f.severity === 'error').map((f) => `${r.checkId} [${r.cluster}] ${f.messageId}`));
  return [...new Set(keys)].sort();
}

/** The findings `meshdoctor all --lab` (scenario demo) must report: the demo's two injected faults. */
export const DEMO_FINDINGS = ['certificates/shared-root [*] rootMismatch', 'network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual'];
