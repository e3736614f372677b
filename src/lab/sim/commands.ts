// The commands a pod's containers can run in the lab: curl, getent, nslookup, cat, hostname, and
// `sh -c` through the lab's shell (./shell.ts), printing what the real tools print and exiting with
// their codes.
import type { ExecResult } from '../../cluster/types.ts';
import { httpRequest, nameserverOf, resolveName, tcpConnect, type Client, type Outcome } from './traffic.ts';
import { stableHash } from './objects.ts';
import { runShell } from './shell.ts';

/** What a container has installed. */
export interface Toolbox {
  /** Binaries besides the shell builtins (`curl`, `getent`, ...). */
  binaries: Set<string>;
  /** Handler of binaries this container knows specially (pilot-agent, pilot-discovery). */
  special?: (argv: string[]) => ExecResult | Promise<ExecResult>;
}

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });

/** Run argv in a container (argv[0] `sh -c` goes through the mini shell). */
export async function runCommand(client: Client, tools: Toolbox, argv: string[]): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if ((cmd === 'sh' || cmd === '/bin/sh' || cmd === 'bash' || cmd === '/bin/bash') && args[0] === '-c') {
    if (!tools.binaries.has('sh')) return notInPath(cmd);
    return runShell(args[1] ?? '', { run: (command) => runOne(client, tools, command), has: (name) => tools.binaries.has(name) });
  }
  const result = await runOne(client, tools, argv);
  return result ?? notInPath(cmd ?? '');
}

/** The container runtime's answer to an exec of a binary that is not there. */
function notInPath(cmd: string): ExecResult {
  return {
    exitCode: 127,
    stdout: '',
    stderr: `OCI runtime exec failed: exec failed: unable to start container process: exec: "${cmd}": executable file not found in $PATH: unknown\n`,
  };
}

/** One simple command; undefined when the binary does not exist. */
async function runOne(client: Client, tools: Toolbox, argv: string[]): Promise<ExecResult | undefined> {
  const [cmd, ...args] = argv;
  const base = (cmd ?? '').split('/').pop() ?? '';
  const has = (bin: string) => tools.binaries.has(bin);
  switch (base) {
    case 'echo':
      return ok(`${args.join(' ')}\n`);
    case 'true':
      return ok();
    case 'false':
      return { exitCode: 1, stdout: '', stderr: '' };
    case 'command':
    case 'which':
    case 'type': {
      const names = args.filter((a) => !a.startsWith('-'));
      const found = names.filter((n) => has(n) || n === 'sh');
      const stdout = found.map((n) => (base === 'type' ? `${n} is /usr/bin/${n}\n` : `/usr/bin/${n}\n`)).join('');
      return { exitCode: found.length === names.length && names.length > 0 ? 0 : 1, stdout, stderr: '' };
    }
  }
  if (tools.special) {
    const special = await tools.special(argv);
    if (special.exitCode !== -1) return special;
  }
  if (!has(base)) return undefined;
  switch (base) {
    case 'hostname':
      return ok(`${client.pod.metadata.name}\n`);
    case 'cat':
      return cat(client, args);
    case 'getent':
      return getent(client, args);
    case 'nslookup':
      return nslookup(client, args);
    case 'curl':
      return curl(client, args);
    default:
      return ok();
  }
}

/** Files a pod has. */
function fileOf(client: Client, path: string): string | undefined {
  const ns = client.pod.metadata.namespace ?? 'default';
  switch (path) {
    case '/etc/hostname':
      return `${client.pod.metadata.name}\n`;
    case '/etc/resolv.conf':
      return `search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${nameserverOf(client.view)}\noptions ndots:5\n`;
    case '/etc/hosts':
      return `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${client.pod.status?.podIP ?? ''}\t${client.pod.metadata.name}\n`;
    case '/var/run/secrets/kubernetes.io/serviceaccount/namespace':
      return ns;
    default:
      return undefined;
  }
}

function cat(client: Client, args: string[]): ExecResult {
  let stdout = '';
  let stderr = '';
  for (const path of args.filter((a) => !a.startsWith('-'))) {
    const text = fileOf(client, path);
    if (text === undefined) stderr += `cat: ${path}: No such file or directory\n`;
    else stdout += text;
  }
  return { exitCode: stderr ? 1 : 0, stdout, stderr };
}

function getent(client: Client, args: string[]): ExecResult {
  if (args[0] !== 'hosts' && args[0] !== 'ahosts') return { exitCode: 1, stdout: '', stderr: `Unknown database: ${args[0] ?? ''}\n` };
  let stdout = '';
  for (const name of args.slice(1)) {
    const r = resolveName(client, name);
    if (!r) return { exitCode: 2, stdout, stderr: '' };
    for (const addr of r.addresses) stdout += `${addr.padEnd(15)} ${r.fqdn}\n`;
  }
  return ok(stdout);
}

function nslookup(client: Client, args: string[]): ExecResult {
  const name = args.find((a) => !a.startsWith('-')) ?? '';
  const server = nameserverOf(client.view);
  const head = `Server:\t\t${server}\nAddress:\t${server}:53\n\n`;
  const r = resolveName(client, name);
  if (!r) return { exitCode: 1, stdout: `${head}** server can't find ${name}: NXDOMAIN\n\n`, stderr: '' };
  return ok(`${head}${r.addresses.map((a) => `Name:\t${r.fqdn}\nAddress: ${a}\n`).join('')}\n`);
}

/** Parsed curl command line (the options the lab supports; others are accepted and ignored). */
interface CurlArgs {
  url?: string;
  silent: boolean;
  showError: boolean;
  verbose: boolean;
  head: boolean;
  include: boolean;
  fail: boolean;
  output?: string;
  writeOut?: string;
  maxTime?: number;
  connectTimeout?: number;
}

const CURL_VALUE_OPTIONS = new Set(['-o', '--output', '-w', '--write-out', '-m', '--max-time', '--connect-timeout', '-H', '--header', '-X', '--request', '-d', '--data', '-A', '--user-agent', '--resolve', '-u', '--user', '-e', '--retry', '--retry-delay', '-x', '--proxy', '--cacert', '--cert', '--key']);

/** curl's on/off options by long name and by short letter (short ones may be bundled: `-sS`). */
const CURL_FLAGS: Record<string, 'silent' | 'showError' | 'verbose' | 'head' | 'include' | 'fail'> = {
  '--silent': 'silent',
  '-s': 'silent',
  '--show-error': 'showError',
  '-S': 'showError',
  '--verbose': 'verbose',
  '-v': 'verbose',
  '--head': 'head',
  '-I': 'head',
  '--include': 'include',
  '-i': 'include',
  '--fail': 'fail',
  '-f': 'fail',
};

function parseCurl(args: string[]): CurlArgs {
  const out: CurlArgs = { silent: false, showError: false, verbose: false, head: false, include: false, fail: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [opt, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (CURL_VALUE_OPTIONS.has(opt) || (/^-[owmHXdAue]/.test(a) && a.length > 2 && !a.startsWith('--'))) {
      let value: string;
      let name = opt;
      if (!a.startsWith('--') && a.length > 2) {
        name = a.slice(0, 2);
        value = a.slice(2);
      } else value = inline ?? args[++i] ?? '';
      if (name === '-o' || name === '--output') out.output = value;
      else if (name === '-w' || name === '--write-out') out.writeOut = value;
      else if (name === '-m' || name === '--max-time') out.maxTime = Number(value);
      else if (name === '--connect-timeout') out.connectTimeout = Number(value);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      const names = a.startsWith('--') ? [a] : [...a.slice(1)].map((letter) => `-${letter}`);
      for (const name of names) {
        const flag = CURL_FLAGS[name];
        if (flag) out[flag] = true;
      }
      continue;
    }
    out.url ??= a;
  }
  return out;
}

/** curl as the lab's pods run it: http:// (through the sidecar) and telnet:// (a TCP connect test). */
function curl(client: Client, args: string[]): ExecResult {
  const opts = parseCurl(args);
  if (!opts.url) return { exitCode: 2, stdout: '', stderr: "curl: try 'curl --help' or 'curl --manual' for more information\n" };
  const m = /^(?:([a-z]+):\/\/)?(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?([^#]*)/i.exec(opts.url);
  const scheme = (m?.[1] ?? 'http').toLowerCase();
  const host = m?.[2] ?? '';
  if (!m || !['http', 'https', 'telnet'].includes(scheme)) return failure(opts, 1, `Protocol "${scheme}" not supported`, '000');
  const port = Number(m[3] ?? (scheme === 'https' ? 443 : scheme === 'telnet' ? 23 : 80));
  const path = m[4] || '/';
  let stderr = '';
  const verbose = (line: string) => {
    if (opts.verbose) stderr += `${line}\n`;
  };
  const resolved = resolveName(client, host);
  if (!resolved) return failure(opts, 6, `Could not resolve host: ${host}`, '000');
  const ip = resolved.addresses[0];
  verbose(`*   Trying ${ip}:${port}...`);
  const deadlineS = opts.maxTime ?? opts.connectTimeout;
  const timeoutMs = Math.round((deadlineS ?? 130) * 1000) + 1;

  if (scheme === 'telnet') {
    const tcp = tcpConnect(client, ip, port);
    if (tcp.kind === 'timeout') return failure(opts, 28, `Connection timed out after ${timeoutMs} milliseconds`, '000', stderr);
    if (tcp.kind === 'refused') return failure(opts, 7, `Failed to connect to ${host} port ${port} after 1 ms: Couldn't connect to server`, '000', stderr);
    verbose(`* Connected to ${host} (${ip}) port ${port}`);
    return { exitCode: 0, stdout: writeOut(opts, '000', 0.001 * ((tcp.kind === 'connected' ? tcp.ms : 1) + 1), ip, port), stderr };
  }

  const outcome: Outcome = httpRequest(client, resolved, port, path, deadlineS);
  if (outcome.kind === 'timeout') {
    // Through the sidecar the TCP connect succeeds at once (iptables hands it to Envoy); the wait is for the answer.
    verbose(`* Connected to ${host} (${ip}) port ${port}`);
    return failure(opts, 28, `Operation timed out after ${timeoutMs} milliseconds with 0 bytes received`, '000', stderr);
  }
  if (outcome.kind === 'reset') {
    verbose(`* Connected to ${host} (${ip}) port ${port}`);
    return failure(opts, 56, 'Recv failure: Connection reset by peer', '000', stderr);
  }
  if (outcome.kind === 'refused' || outcome.kind === 'connected') {
    return failure(opts, 7, `Failed to connect to ${host} port ${port} after 1 ms: Couldn't connect to server`, '000', stderr);
  }
  verbose(`* Connected to ${host} (${ip}) port ${port}`);
  const method = opts.head ? 'HEAD' : 'GET';
  verbose(`> ${method} ${path} HTTP/1.1\n> Host: ${host}${m[3] ? `:${port}` : ''}\n> User-Agent: curl/8.11.1\n> Accept: */*\n>`);
  const statusText: Record<number, string> = { 200: 'OK', 404: 'NOT FOUND', 503: 'Service Unavailable' };
  const date = client.sim.mesh.clock().toUTCString();
  const headerLines = [`HTTP/1.1 ${outcome.status} ${statusText[outcome.status] ?? ''}`.trimEnd(), ...Object.entries({ ...outcome.headers, date }).map(([k, v]) => `${k}: ${v}`)];
  for (const h of headerLines) verbose(`< ${h}`);
  verbose('<');
  const code = String(outcome.status);
  // A small latency that varies from request to request but is the same on every run.
  const requestKey = `${client.view.name}/${client.pod.metadata.namespace}/${client.pod.metadata.name}|requests`;
  const sequence = client.sim.roundRobin.get(requestKey) ?? 0;
  client.sim.roundRobin.set(requestKey, sequence + 1);
  const seconds = (outcome.ms + (stableHash(`${client.pod.metadata.name}|${host}|${code}|${sequence}`) % 1500) / 1000) / 1000;
  let stdout = '';
  const headerBlock = `${headerLines.join('\r\n')}\r\n\r\n`;
  if (opts.fail && outcome.status >= 400) {
    return failure(opts, 22, `The requested URL returned error: ${code}`, code, stderr);
  }
  if (opts.head) stdout += headerBlock;
  else {
    if (opts.include) stdout += headerBlock;
    if (!opts.output || opts.output === '-') stdout += outcome.body;
  }
  stdout += writeOut(opts, code, seconds, ip, port);
  return { exitCode: 0, stdout, stderr };
}

/** A curl failure: the error line (unless -s without -S), and the -w output with the code curl reports. */
function failure(opts: CurlArgs, exitCode: number, message: string, code: string, stderr = ''): ExecResult {
  const err = !opts.silent || opts.showError ? `curl: (${exitCode}) ${message}\n` : '';
  const seconds = exitCode === 28 ? (opts.maxTime ?? opts.connectTimeout ?? 130) : 0.001;
  return { exitCode, stdout: writeOut(opts, code, seconds, '', 0), stderr: stderr + err };
}

function writeOut(opts: CurlArgs, code: string, seconds: number, ip: string, port: number): string {
  if (!opts.writeOut) return '';
  const vars: Record<string, string> = {
    http_code: code,
    response_code: code,
    time_total: seconds.toFixed(6),
    time_connect: (seconds / 3).toFixed(6),
    time_namelookup: (seconds / 10).toFixed(6),
    time_starttransfer: ((seconds * 9) / 10).toFixed(6),
    remote_ip: ip,
    remote_port: port ? String(port) : '',
    url_effective: opts.url ?? '',
  };
  return opts.writeOut
    .replace(/%\{([a-z_]+)\}/g, (all, name: string) => vars[name] ?? all)
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\r/g, '\r');
}
