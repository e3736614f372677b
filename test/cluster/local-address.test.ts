// The security rule (issue 11): connections with credentials from cluster data never reach the
// machine meshdoctor runs on or its link-local network (cloud metadata), by address or by a name
// resolving there, on every path an inline (remote-secret) endpoint takes: API requests of a live
// reader, exec and port-forward over WebSocket.
import dns from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { execInPod } from '../../src/cluster/exec.ts';
import { createLiveReader } from '../../src/cluster/live-reader.ts';
import { localAddressKind, localServerRefusal } from '../../src/cluster/local-address.ts';
import { portForwardGet } from '../../src/cluster/port-forward.ts';
import type { KubeEndpoint } from '../../src/cluster/kube-http.ts';
import type { InlineCredentials } from '../../src/cluster/untrusted-kubeconfig.ts';
import { sendChannel, sendJson, startFakeApiServer, TOKEN, type FakeApiServer } from './helpers/fake-api-server.ts';

let servers: FakeApiServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});

/** The test's DNS: `name` resolves to `address` (as a hostile or stale record would), other names as they do. */
function resolving(name: string, address: string) {
  const real = dns.lookup.bind(dns);
  const family = address.includes(':') ? 6 : 4;
  return vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (hostname !== name) return (real as (...args: unknown[]) => void)(hostname, options, callback);
    process.nextTick(() => (options.all ? callback(null, [{ address, family }]) : callback(null, address, family)));
  }) as unknown as typeof dns.lookup);
}

/** A local API server that answers lists and exec, counting what reaches it. */
async function localServer(): Promise<FakeApiServer> {
  const server = await startFakeApiServer({
    http: (_req, res) => sendJson(res, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }),
    ws: (socket) => {
      sendChannel(socket, 1, 'out');
      sendChannel(socket, 3, JSON.stringify({ status: 'Success' }));
    },
  });
  servers.push(server);
  return server;
}

const inline = (server: string, local: FakeApiServer, extra: Partial<InlineCredentials> = {}): InlineCredentials => ({ server, caPem: local.caPem, token: TOKEN, tlsServerName: 'localhost', ...extra });
const pod = { namespace: 'istio-system', name: 'istiod-1' };

describe('localAddressKind', () => {
  it('tells loopback, unspecified, link-local and metadata addresses, in every form URL parsing leaves them', () => {
    const kinds = (hosts: string[]) => hosts.map((h) => localAddressKind(new URL(`https://${h}/`).hostname) ?? 'routable');
    expect(kinds(['127.0.0.1', '127.255.0.9', '127.1', '0x7f000001', '017700000001', 'localhost', 'LOCALHOST.', 'a.b.localhost', '[::1]', '[::ffff:127.0.0.1]', '[0:0:0:0:0:ffff:7f00:1]'])).toEqual(Array(11).fill('loopback'));
    expect(kinds(['0.0.0.0', '0', '[::]', '[::ffff:0.0.0.0]'])).toEqual(Array(4).fill('unspecified'));
    expect(kinds(['169.254.169.254', '169.254.0.1', '[fe80::1]', '[febf::ffff]', '[::ffff:169.254.169.254]'])).toEqual(Array(5).fill('link-local'));
    expect(kinds(['[fd00:ec2::254]'])).toEqual(['metadata']);
    expect(kinds(['10.0.0.1', '192.0.2.1', '169.255.0.1', '128.0.0.1', '[fec0::1]', '[2001:db8::1]', '[::ffff:10.0.0.1]', 'localhost.example.com', 'api.example.com'])).toEqual(Array(9).fill('routable'));
  });

  it('refuses by text unless allowed: loopback allows loopback only, any allows all', () => {
    expect(localServerRefusal('https://127.0.0.1:6443')).toMatch(/loopback/);
    expect(localServerRefusal('https://127.0.0.1:6443', 'loopback')).toBeUndefined();
    expect(localServerRefusal('https://169.254.169.254', 'loopback')).toMatch(/link-local/);
    expect(localServerRefusal('https://169.254.169.254', 'any')).toBeUndefined();
    expect(localServerRefusal('https://api.example.com:6443')).toBeUndefined();
  });
});

describe('an inline (remote-secret) endpoint never reaches this machine unless allowed', () => {
  it('live reader lists: refused by address and by a name resolving to 127.0.0.1, nothing received; allowed loopback reads', async () => {
    const local = await localServer();
    const port = new URL(local.url).port;
    resolving('api.peer.test', '127.0.0.1');
    for (const server of [local.url, `https://localhost:${port}`, `https://api.peer.test:${port}`]) {
      const reader = createLiveReader({ name: 'peer', inline: inline(server, local), istioNamespace: 'istio-system' });
      await expect(reader.list('namespaces')).rejects.toMatchObject({ name: 'LocalAddressRefused', reason: 'unreachable', message: expect.stringMatching(/^not probed: .*loopback/) });
      await expect(reader.version()).rejects.toMatchObject({ name: 'LocalAddressRefused' });
    }
    expect(local.requests).toEqual([]);
    const allowed = createLiveReader({ name: 'peer', inline: inline(`https://api.peer.test:${port}`, local, { allowLocal: 'loopback' }), istioNamespace: 'istio-system' });
    expect(await allowed.list('namespaces')).toEqual([]);
    expect(local.requests).toEqual(['/api/v1/namespaces?limit=500']);
  });

  it('exec and port-forward (WebSocket): the same lookup guard, nothing received; allowed loopback execs', async () => {
    const local = await localServer();
    const port = new URL(local.url).port;
    resolving('api.peer.test', '127.0.0.1');
    const endpoint = (credentials: InlineCredentials): KubeEndpoint => ({ cluster: 'peer', server: credentials.server, inline: credentials });
    for (const server of [`https://api.peer.test:${port}`, `https://[::ffff:127.0.0.1]:${port}`]) {
      await expect(execInPod(endpoint(inline(server, local)), { pod, container: 'discovery', command: ['true'], timeoutMs: 3000 })).rejects.toMatchObject({ name: 'LocalAddressRefused', message: expect.stringMatching(/^not probed: /) });
      await expect(portForwardGet(endpoint(inline(server, local)), { pod, port: 15014, path: '/debug/syncz', timeoutMs: 3000 })).rejects.toMatchObject({ name: 'LocalAddressRefused' });
    }
    expect(local.requests).toEqual([]);
    const allowed = await execInPod(endpoint(inline(`https://api.peer.test:${port}`, local, { allowLocal: 'loopback' })), { pod, container: 'discovery', command: ['true'], timeoutMs: 3000 });
    expect(allowed).toMatchObject({ exitCode: 0, stdout: 'out' });
    expect(local.requests).toHaveLength(1);
  });

  it('a name resolving to the metadata address is refused even where loopback is allowed', async () => {
    resolving('metadata.peer.test', '169.254.169.254');
    const reader = createLiveReader({ name: 'peer', inline: { server: 'http://metadata.peer.test', allowLocal: 'loopback' }, istioNamespace: 'istio-system' });
    await expect(reader.version()).rejects.toMatchObject({ name: 'LocalAddressRefused', message: expect.stringContaining('169.254.169.254, a link-local address') });
  });
});
