// DNS and TCP probes from the source pod: name resolution (getent, else nslookup) and a bare TCP
// connect (curl telnet://, else nc -z), each one exec bounded by the probe timeout.
import type { ClusterReader } from '../../cluster/types.ts';
import { curlErrorLine } from './curl.ts';
import { firstLine, probeExecOptions, seconds } from './exec.ts';
import type { ProbeSource } from './source.ts';

/** The result of resolving a name in the source pod. */
export type DnsResult = { resolved: true; addresses: string[] } | { resolved: false; detail: string };

/** Resolve `name` in the source pod with getent (else nslookup). Unexpected tool failures throw. */
export async function resolveInPod(reader: ClusterReader, source: ProbeSource, name: string, timeoutMs: number, signal?: AbortSignal): Promise<DnsResult> {
  const opts = probeExecOptions(timeoutMs, signal);
  if (source.tools.has('getent')) {
    const r = await reader.exec(source.pod, source.container, ['getent', 'hosts', name], opts);
    // getent: 0 found, 2 not found (1 and 3 are usage/database errors).
    if (r.exitCode === 0) return { resolved: true, addresses: r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean) };
    if (r.exitCode === 2) return { resolved: false, detail: `getent hosts ${name}: not found` };
    throw new Error(`getent hosts ${name} in ${source.pod.namespace}/${source.pod.name} exited ${r.exitCode}: ${firstLine(r.stderr)}`);
  }
  if (source.tools.has('nslookup')) {
    const r = await reader.exec(source.pod, source.container, ['nslookup', name], opts);
    // Address lines before the first "Name:" are the DNS server's; the answers follow it.
    const nameAt = r.stdout.indexOf('Name:');
    const answers = nameAt < 0 ? [] : [...r.stdout.slice(nameAt).matchAll(/Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)/g)].map((m) => m[1]);
    if (r.exitCode === 0 && answers.length) return { resolved: true, addresses: answers };
    if (/NXDOMAIN|can't find|server can't find|No answer/i.test(`${r.stdout}${r.stderr}`)) return { resolved: false, detail: firstLine(r.stdout.split('\n').filter((l) => /can't find|NXDOMAIN|No answer/i.test(l)).join('\n')) };
    throw new Error(`nslookup ${name} in ${source.pod.namespace}/${source.pod.name} exited ${r.exitCode}: ${firstLine(r.stderr || r.stdout)}`);
  }
  throw new Error('no DNS tool (getent or nslookup) in the probe pod');
}

/** The result of a TCP connect from the source pod. */
export type TcpResult = { connected: true; ms?: number } | { connected: false; kind: 'timeout' | 'refused' | 'dns' | 'other'; detail: string };

/** TCP connect to `address:port` from the source pod: curl telnet:// (else nc -z), bounded by `timeoutMs`. */
export async function tcpConnectFromPod(reader: ClusterReader, source: ProbeSource, address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TcpResult> {
  const opts = probeExecOptions(timeoutMs, signal);
  const host = address.includes(':') ? `[${address}]` : address;
  if (source.tools.has('curl')) {
    // Without stdin, curl's telnet ends as soon as it is connected; -v tells a connect from a later timeout.
    const r = await reader.exec(source.pod, source.container, ['curl', '-v', '-sS', '--connect-timeout', seconds(timeoutMs), '-m', seconds(timeoutMs + 1000), `telnet://${host}:${port}`], opts);
    if (r.exitCode === 0 || /Connected to /.test(r.stderr)) return { connected: true };
    const detail = curlErrorLine(r.stderr) || `curl exited ${r.exitCode}`;
    if (r.exitCode === 28) return { connected: false, kind: 'timeout', detail };
    if (r.exitCode === 7) return { connected: false, kind: 'refused', detail };
    if (r.exitCode === 6) return { connected: false, kind: 'dns', detail };
    return { connected: false, kind: 'other', detail };
  }
  if (source.tools.has('nc')) {
    const r = await reader.exec(source.pod, source.container, ['nc', '-z', '-w', String(Math.max(1, Math.ceil(timeoutMs / 1000))), address, String(port)], opts);
    if (r.exitCode === 0) return { connected: true };
    const detail = firstLine(r.stderr) || `nc exited ${r.exitCode}`;
    return { connected: false, kind: /refused/i.test(detail) ? 'refused' : /timed out|timeout/i.test(detail) || !detail ? 'timeout' : 'other', detail };
  }
  throw new Error('no TCP tool (curl or nc) in the probe pod');
}
