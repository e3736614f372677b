// Proxies for the operator's own kubeconfig, chosen as kubectl (client-go) chooses them: the
// cluster's `proxy-url`, else HTTPS_PROXY with NO_PROXY (Go's httpproxy rules: upper case first, no
// fallback to HTTP_PROXY for an https server, loopback never proxied from the environment).
// Requests go through an HTTP CONNECT tunnel opened with undici; TLS to the API server runs inside
// it, so the proxy sees only the host and port. A kubeconfig read from a cluster never gets here.
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Client, Dispatcher, Socks5ProxyAgent } from 'undici';
import { KubeconfigError } from './kubeconfig.ts';

/**
 * The proxy for an API server URL, or undefined to connect directly. `proxyUrl` is the kubeconfig
 * cluster's `proxy-url` (it applies to every host, loopback included, as in client-go). Throws
 * KubeconfigError for a proxy URL meshdoctor cannot use.
 */
export function proxyFor(server: string, proxyUrl: string | undefined, env: NodeJS.ProcessEnv): URL | undefined {
  const target = new URL(server);
  // Tunnels carry TLS: a plain-http API server (a local dev setup) is reached directly.
  if (target.protocol !== 'https:') return undefined;
  if (proxyUrl) return parseProxy(proxyUrl, 'the kubeconfig proxy-url');
  const [name, value] = firstSet(env, 'HTTPS_PROXY', 'https_proxy');
  if (!value) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || (net.isIP(host) && isLoopback(host))) return undefined;
  const port = target.port || '443';
  if (excludedByNoProxy(host, port, firstSet(env, 'NO_PROXY', 'no_proxy')[1] ?? '')) return undefined;
  return parseProxy(value, name);
}

function firstSet(env: NodeJS.ProcessEnv, ...names: string[]): [string, string | undefined] {
  for (const name of names) if (env[name]) return [name, env[name]];
  return [names[0], undefined];
}

/** A proxy URL as Go reads it: a bare `host:port` is http://; http, https and socks5 proxies are supported, as in kubectl. */
function parseProxy(text: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new KubeconfigError(`${where} ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'socks5:') {
    throw new KubeconfigError(`${where} ${JSON.stringify(text)}: only http://, https:// and socks5:// proxies are supported (not ${url.protocol.replace(/:$/, '')})`);
  }
  return url;
}

function isLoopback(ip: string): boolean {
  return net.isIPv4(ip) ? ip.startsWith('127.') : ip === '::1';
}

/**
 * NO_PROXY as Go's httpproxy reads it: `*` matches all; an IP or CIDR matches addresses; a name
 * matches itself and its subdomains (`.name` and `*.name` only subdomains); `:port` narrows a name.
 */
export function excludedByNoProxy(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (net.isIP(host) && inCidr(host, entry)) return true;
      continue;
    }
    if (net.isIP(entry.replace(/^\[|\]$/g, ''))) {
      if (entry.replace(/^\[|\]$/g, '') === host) return true;
      continue;
    }
    let entryPort: string | undefined;
    const colon = entry.lastIndexOf(':');
    if (colon > 0 && !entry.includes(']')) {
      entryPort = entry.slice(colon + 1);
      entry = entry.slice(0, colon);
    }
    if (entryPort && entryPort !== port) continue;
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.')) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const family = net.isIPv4(base) ? 'ipv4' : net.isIPv6(base) ? 'ipv6' : undefined;
  if (!family || !Number.isInteger(bits) || (family === 'ipv4') !== net.isIPv4(ip)) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base, bits, family);
  } catch {
    return false;
  }
  return list.check(ip, family);
}

/**
 * An https.Agent whose connections are CONNECT tunnels through `proxy` (opened with undici's
 * `connect`), TLS to the API server inside. Used for API requests (keep-alive pooled) and for the
 * exec and port-forward WebSockets.
 */
export class TunnelAgent extends https.Agent {
  readonly proxy: URL;

  constructor(proxy: URL, options: https.AgentOptions = {}) {
    super(options);
    this.proxy = proxy;
  }

  // Node's Agent accepts a socket later through the callback.
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    openTunnel(this.proxy, options.host ?? 'localhost', Number(options.port ?? 443)).then(
      (socket) => callback?.(null, tls.connect({ ...(options as tls.ConnectionOptions), socket })),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** A raw socket to host:port through the proxy's CONNECT. */
/** One undici client per proxy: it only opens CONNECT tunnels, each socket then belongs to its caller. */
const proxyClients = new Map<string, Client>();

async function openTunnel(proxy: URL, host: string, port: number): Promise<Duplex> {
  if (proxy.protocol === 'socks5:') return openSocksTunnel(proxy, host, port);
  // Loaded on first use: commands that never tunnel stay fast to start.
  const { Client: UndiciClient } = await import('undici');
  let client = proxyClients.get(proxy.origin);
  if (!client) proxyClients.set(proxy.origin, (client = new UndiciClient(proxy.origin)));
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username || proxy.password) {
    headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
  }
  let answer: Dispatcher.ConnectData;
  try {
    answer = await client.connect({ path: authority, headers });
  } catch (err) {
    throw new Error(`proxy ${proxy.host} did not open a tunnel to ${authority}: ${(err as Error).message}`, { cause: err });
  }
  if (answer.statusCode !== 200) {
    answer.socket.destroy();
    throw new Error(`proxy ${proxy.host} refused a tunnel to ${authority}: HTTP ${answer.statusCode}`);
  }
  return answer.socket;
}

/** One SOCKS5 client per proxy (undici's): it only opens tunnels, each socket then belongs to its caller. */
const socksAgents = new Map<string, Socks5ProxyAgent>();

/** A raw socket to host:port through a SOCKS5 proxy (RFC 1928; user/password from the URL, RFC 1929). */
async function openSocksTunnel(proxy: URL, host: string, port: number): Promise<Duplex> {
  const { Socks5ProxyAgent: Agent } = await import('undici');
  let agent = socksAgents.get(proxy.href);
  if (!agent) {
    // undici announces its SOCKS5 support as experimental with a process warning on first use: that
    // line would reach the operator's terminal as if something were wrong with the run.
    const emitWarning = process.emitWarning;
    process.emitWarning = (() => {}) as typeof process.emitWarning;
    try {
      agent = new Agent(proxy.href);
    } finally {
      process.emitWarning = emitWarning;
    }
    socksAgents.set(proxy.href, agent);
  }
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  try {
    // Public on undici's Socks5ProxyAgent, missing from its type declarations.
    const connector = agent as unknown as { createSocks5Connection(host: string, port: number): Promise<Duplex> };
    return await connector.createSocks5Connection(host, port);
  } catch (err) {
    throw new Error(`SOCKS5 proxy ${proxy.host} did not open a tunnel to ${authority}: ${(err as Error).message}`, { cause: err });
  }
}
