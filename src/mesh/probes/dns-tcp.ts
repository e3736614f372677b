// DNS and TCP probes from the source pod: name resolution (getent, else nslookup) and a bare TCP
// connect (curl telnet://, else nc -z), each request bounded by the probe timeout, all of a check's
// requests in one probe batch (./batch.ts): one exec.
import type { ClusterReader, ExecResult } from '../../cluster/types.ts';
import { execBatch, type BatchRequest } from './batch.ts';
import { curlErrorLine } from './curl.ts';
import { firstLine, seconds } from './exec.ts';
import type { ProbeSource } from './source.ts';

/** The result of resolving a name in the source pod. */
export type DnsResult = { resolved: true; addresses: string[] } | { resolved: false; detail: string };

/**
 * The lookup of `name` in the source pod: getent (else nslookup). Neither has a timeout of its own: a
 * lookup is bounded by the batch's exec deadline (its share of it is `timeoutMs`), as it was by its own exec's.
 */
export function dnsRequest(source: ProbeSource, name: string, timeoutMs: number): BatchRequest {
  if (source.tools.has('getent')) return { argv: ['getent', 'hosts', name], timeoutMs };
  if (source.tools.has('nslookup')) return { argv: ['nslookup', name], timeoutMs };
  throw new Error('no DNS tool (getent or nslookup) in the probe pod');
}

/** What a lookup's result says. Unexpected tool failures throw. */
export function dnsOutcome(source: ProbeSource, name: string, r: ExecResult): DnsResult {
  if (source.tools.has('getent')) {
    // getent: 0 found, 2 not found (1 and 3 are usage/database errors).
    if (r.exitCode === 0) return { resolved: true, addresses: r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean) };
    if (r.exitCode === 2) return { resolved: false, detail: `getent hosts ${name}: not found` };
    throw new Error(`getent hosts ${name} in ${source.pod.namespace}/${source.pod.name} exited ${r.exitCode}: ${firstLine(r.stderr)}`);
  }
  // Address lines before the first "Name:" are the DNS server's; the answers follow it.
  const nameAt = r.stdout.indexOf('Name:');
  const answers = nameAt < 0 ? [] : [...r.stdout.slice(nameAt).matchAll(/Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)/g)].map((m) => m[1]);
  if (r.exitCode === 0 && answers.length) return { resolved: true, addresses: answers };
  if (/NXDOMAIN|can't find|server can't find|No answer/i.test(`${r.stdout}${r.stderr}`)) return { resolved: false, detail: firstLine(r.stdout.split('\n').filter((l) => /can't find|NXDOMAIN|No answer/i.test(l)).join('\n')) };
  throw new Error(`nslookup ${name} in ${source.pod.namespace}/${source.pod.name} exited ${r.exitCode}: ${firstLine(r.stderr || r.stdout)}`);
}

/** Resolve `names` in the source pod, in one batch. Unexpected tool failures throw (the first, in order). */
export async function resolveAllInPod(reader: ClusterReader, source: ProbeSource, names: string[], timeoutMs: number, signal?: AbortSignal): Promise<DnsResult[]> {
  const requests = names.map((name) => dnsRequest(source, name, timeoutMs));
  const results = await execBatch(reader, source, requests, signal);
  return results.map((r, i) => dnsOutcome(source, names[i], r));
}

/** The result of a TCP connect from the source pod. */
export type TcpResult = { connected: true; ms?: number } | { connected: false; kind: 'timeout' | 'refused' | 'dns' | 'other'; detail: string };

/** A TCP connect to `address:port`: curl telnet:// (else nc -z), bounded by `timeoutMs`. */
export function tcpRequest(source: ProbeSource, address: string, port: number, timeoutMs: number): BatchRequest {
  const host = address.includes(':') ? `[${address}]` : address;
  // Without stdin, curl's telnet ends as soon as it is connected; -v tells a connect from a later timeout.
  if (source.tools.has('curl')) return { argv: ['curl', '-v', '-sS', '--connect-timeout', seconds(timeoutMs), '-m', seconds(timeoutMs + 1000), `telnet://${host}:${port}`], timeoutMs: timeoutMs + 1000 };
  if (source.tools.has('nc')) return { argv: ['nc', '-z', '-w', String(Math.max(1, Math.ceil(timeoutMs / 1000))), address, String(port)], timeoutMs: Math.max(1000, Math.ceil(timeoutMs / 1000) * 1000) };
  throw new Error('no TCP tool (curl or nc) in the probe pod');
}

/** What a TCP connect's result says. */
export function tcpOutcome(source: ProbeSource, r: ExecResult): TcpResult {
  if (source.tools.has('curl')) {
    if (r.exitCode === 0 || /Connected to /.test(r.stderr)) return { connected: true };
    const detail = curlErrorLine(r.stderr) || `curl exited ${r.exitCode}`;
    if (r.exitCode === 28) return { connected: false, kind: 'timeout', detail };
    if (r.exitCode === 7) return { connected: false, kind: 'refused', detail };
    if (r.exitCode === 6) return { connected: false, kind: 'dns', detail };
    return { connected: false, kind: 'other', detail };
  }
  if (r.exitCode === 0) return { connected: true };
  const detail = firstLine(r.stderr) || `nc exited ${r.exitCode}`;
  return { connected: false, kind: /refused/i.test(detail) ? 'refused' : /timed out|timeout/i.test(detail) || !detail ? 'timeout' : 'other', detail };
}

/** TCP connects to each of `targets` from the source pod, in one batch. */
export async function tcpConnectAllFromPod(reader: ClusterReader, source: ProbeSource, targets: { address: string; port: number }[], timeoutMs: number, signal?: AbortSignal): Promise<TcpResult[]> {
  const requests = targets.map((t) => tcpRequest(source, t.address, t.port, timeoutMs));
  const results = await execBatch(reader, source, requests, signal);
  return results.map((r) => tcpOutcome(source, r));
}
