// What the real-stack tests share: starting the stack (building what is missing), kubectl 1.32 and
// meshdoctor as child processes, and reading the apiservers' audit logs.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMissing, KUBECTL, startRealStack, type RealStack, type StartOptions } from '../stack.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Build what is missing (a blocked build fails with its command and error), then start the stack. */
export async function buildAndStart(opts: StartOptions = {}): Promise<RealStack> {
  const blocked = buildMissing().filter((b) => b.blocked);
  if (blocked.length > 0) throw new Error(blocked.map((b) => `${b.name} blocked: ${b.blocked!.command}\n${b.blocked!.error}`).join('\n'));
  return startRealStack({ log: () => undefined, ...opts });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string | undefined;
/** kubectl 1.32 with its own HOME (no cache shared with the user's), against a kubeconfig. */
export function kubectl(kubeconfig: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  home ??= mkdtempSync(join(tmpdir(), 'meshdoctor-realstack-kubectl-'));
  return new Promise((resolve) => {
    execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

export function cleanupKubectlHome(): void {
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
}

/** A finding of meshdoctor's JSON report. */
export interface Finding {
  checkId: string;
  messageId: string;
  severity: 'error' | 'warning' | 'info';
  cluster: string;
}
/** One check result of meshdoctor's JSON report. */
export interface Result {
  checkId: string;
  cluster: string;
  outcome: 'pass' | 'fail' | 'warn' | 'skip' | 'error';
  skipReason?: string;
  skipReasonId?: string;
  error?: string;
  findings: Finding[];
}
export interface Report {
  exitCode: number;
  results: Result[];
}

/**
 * `meshdoctor all` (or other args) against the stack's kubeconfig, both contexts, JSON report. The
 * stack's API servers are on this machine's loopback, as `--lab`'s are: a remote secret naming one
 * with no context (fault remote-secret-unreachable: a closed port) is probed, as in the lab, only
 * with --allow-loopback-remote-secrets.
 */
export function meshdoctor(stack: RealStack, args: string[] = ['all']): Promise<{ code: number; report: Report; stderr: string }> {
  const contexts = stack.clusters.flatMap((c) => ['--context', c.name]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'meshdoctor.js'), ...args, '--kubeconfig', stack.kubeconfigPath, ...contexts, '--allow-loopback-remote-secrets', '-o', 'json'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve({ code: code ?? -1, report: JSON.parse(stdout) as Report, stderr });
      } catch {
        reject(new Error(`meshdoctor exited ${code} without a JSON report: ${stderr}`));
      }
    });
  });
}

/** `meshdoctor all --lab <scenario> --fault ...` (the simulated lab, in meshdoctor's process), JSON report. */
export function labMeshdoctor(scenario: string, faults: string[]): Promise<{ code: number; report: Report }> {
  return new Promise((resolve, reject) => {
    const args = [join(REPO_ROOT, 'bin', 'meshdoctor.js'), 'all', '--lab', scenario, ...faults.flatMap((f) => ['--fault', f]), '-o', 'json'];
    execFile(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      try {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, report: JSON.parse(stdout) as Report });
      } catch {
        reject(new Error(`meshdoctor --lab exited without a JSON report: ${stderr}`));
      }
    });
  });
}

/** Error and warning findings as "checkId messageId cluster", sorted. */
export function verdict(report: Report, severities: Finding['severity'][] = ['error', 'warning']): string[] {
  return report.results
    .flatMap((r) => r.findings)
    .filter((f) => severities.includes(f.severity))
    .map((f) => `${f.checkId} ${f.messageId} ${f.cluster}`)
    .sort();
}

/** One audit event (audit.k8s.io/v1 Event, level Metadata). */
export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  /** The client's User-Agent header, as the apiserver recorded it. */
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

/** Every completed request of `username` in every cluster's audit log. */
export function auditEvents(stack: RealStack, username: string): (AuditEvent & { cluster: string })[] {
  return stack.clusters.flatMap((c) =>
    readFileSync(c.auditLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => e.stage === 'ResponseComplete' && e.user.username === username)
      .map((e) => ({ ...e, cluster: c.name })),
  );
}

/**
 * Requests that would change the cluster. Creating an access or token review, or an exec or
 * port-forward stream (verb create on pods/exec and pods/portforward), reads; everything else a
 * create, update, patch or delete does not.
 */
export function writes<E extends AuditEvent>(events: E[]): E[] {
  const reads = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews', 'tokenreviews']);
  return events.filter(
    (e) =>
      ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb) &&
      !reads.has(e.objectRef?.resource ?? '') &&
      !(e.objectRef?.resource === 'pods' && ['exec', 'portforward', 'attach'].includes(e.objectRef.subresource ?? '')),
  );
}
