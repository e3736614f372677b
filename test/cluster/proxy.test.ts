// Proxy selection as kubectl (client-go, Go's httpproxy) does it.
import { describe, expect, it } from 'vitest';
import { excludedByNoProxy, proxyFor } from '../../src/cluster/proxy.ts';
import { execInPod } from '../../src/cluster/exec.ts';
import { apiGet } from '../../src/cluster/kube-http.ts';
import { loadKubeconfig } from '../../src/cluster/kubeconfig.ts';
import { startLab } from '../../src/lab/index.ts';
import { startCountingProxy } from '../helpers/connect-proxy.ts';
import { startSocks5Proxy } from '../helpers/socks5-proxy.ts';

describe('proxyFor', () => {
  const env = { HTTPS_PROXY: 'http://proxy.corp:3128' };

  it('the kubeconfig proxy-url wins, for any host, loopback included', () => {
    expect(proxyFor('https://127.0.0.1:6443', 'http://127.0.0.1:9', env)?.href).toBe('http://127.0.0.1:9/');
    expect(proxyFor('https://api.example.com', 'https://p.example.com:8443', {})?.href).toBe('https://p.example.com:8443/');
  });

  it('HTTPS_PROXY (then https_proxy) for https servers; never for loopback or localhost; no HTTP_PROXY fallback', () => {
    expect(proxyFor('https://api.example.com:6443', undefined, env)?.host).toBe('proxy.corp:3128');
    expect(proxyFor('https://api.example.com:6443', undefined, { https_proxy: 'proxy.lower:1' })?.host).toBe('proxy.lower:1');
    expect(proxyFor('https://api.example.com:6443', undefined, { HTTPS_PROXY: 'proxy.upper:1', https_proxy: 'proxy.lower:1' })?.host).toBe('proxy.upper:1');
    expect(proxyFor('https://127.0.0.1:6443', undefined, env)).toBeUndefined();
    expect(proxyFor('https://[::1]:6443', undefined, env)).toBeUndefined();
    expect(proxyFor('https://localhost:6443', undefined, env)).toBeUndefined();
    expect(proxyFor('https://api.example.com', undefined, { HTTP_PROXY: 'http://proxy.corp:3128' })).toBeUndefined();
  });

  it('a bare host:port proxy is http://; socks5 as kubectl; other schemes are a kubeconfig error', () => {
    expect(proxyFor('https://api.example.com', undefined, { HTTPS_PROXY: 'proxy.corp:3128' })?.protocol).toBe('http:');
    expect(proxyFor('https://api.example.com', 'socks5://127.0.0.1:1080', {})?.protocol).toBe('socks5:');
    expect(() => proxyFor('https://api.example.com', 'ftp://127.0.0.1:21', {})).toThrow(expect.objectContaining({ name: 'KubeconfigError' }));
  });

  it('NO_PROXY excludes hosts', () => {
    expect(proxyFor('https://api.example.com', undefined, { ...env, NO_PROXY: 'example.com' })).toBeUndefined();
    expect(proxyFor('https://api.example.com', undefined, { ...env, no_proxy: '.example.com' })).toBeUndefined();
    expect(proxyFor('https://api.example.org', undefined, { ...env, NO_PROXY: 'example.com' })?.host).toBe('proxy.corp:3128');
  });
});

describe('excludedByNoProxy', () => {
  it.each([
    ['api.example.com', '443', '*', true],
    ['api.example.com', '443', 'example.com', true],
    ['example.com', '443', 'example.com', true],
    ['example.com', '443', '.example.com', false],
    ['api.example.com', '443', '.example.com', true],
    ['api.example.com', '443', '*.example.com', true],
    ['badexample.com', '443', 'example.com', false],
    ['api.example.com', '6443', 'example.com:443', false],
    ['api.example.com', '443', 'example.com:443', true],
    ['10.1.2.3', '443', '10.0.0.0/8', true],
    ['11.1.2.3', '443', '10.0.0.0/8', false],
    ['10.1.2.3', '443', '10.1.2.3', true],
    ['fd00::1', '443', 'fd00::/8', true],
    ['api.example.com', '443', ' other.org , EXAMPLE.com ', true],
    ['api.example.com', '443', '', false],
  ])('%s:%s with NO_PROXY=%j -> %s', (host, port, noProxy, expected) => {
    expect(excludedByNoProxy(host, port, noProxy)).toBe(expected);
  });
});

describe('tunnels', () => {
  it('an exec WebSocket and an API request each go through one CONNECT tunnel of the proxy', async () => {
    const lab = await startLab({ scenario: 'multi-primary' });
    const proxy = await startCountingProxy();
    try {
      const kubeConfig = loadKubeconfig(lab.kubeconfigPath).forContext('cluster1');
      const endpoint = { cluster: 'cluster1', server: lab.clusters[0].server, kubeConfig, proxy: new URL(proxy.url) };
      const authority = new URL(lab.clusters[0].server).host;
      const istiod = lab.mesh.clusters[0].objects.find((o) => o.kind === 'Pod' && o.metadata.labels?.app === 'istiod')!;
      const result = await execInPod(endpoint, { pod: { namespace: 'istio-system', name: istiod.metadata.name }, container: 'discovery', command: ['pilot-discovery', 'request', 'GET', '/debug/clusterz'] });
      expect(result.exitCode).toBe(0);
      expect([...proxy.tunnels]).toEqual([[authority, 1]]);
      const version = await apiGet(endpoint, '/version', 5000);
      expect(version.status).toBe(200);
      expect(proxy.tunnels.get(authority)).toBe(2);
    } finally {
      await proxy.stop();
      await lab.stop();
    }
  }, 60_000);

  it('a socks5 proxy-url (with a login): the exec WebSocket and API requests go through its tunnels; a wrong login is an error naming the proxy', async () => {
    const lab = await startLab({ scenario: 'multi-primary' });
    const proxy = await startSocks5Proxy({ username: 'ops', password: 'p@ss word' });
    try {
      const kubeConfig = loadKubeconfig(lab.kubeconfigPath).forContext('cluster1');
      const endpoint = { cluster: 'cluster1', server: lab.clusters[0].server, kubeConfig, proxy: proxyFor(lab.clusters[0].server, proxy.url, {})! };
      const authority = new URL(lab.clusters[0].server).host;
      const istiod = lab.mesh.clusters[0].objects.find((o) => o.kind === 'Pod' && o.metadata.labels?.app === 'istiod')!;
      const result = await execInPod(endpoint, { pod: { namespace: 'istio-system', name: istiod.metadata.name }, container: 'discovery', command: ['pilot-discovery', 'request', 'GET', '/debug/clusterz'] });
      expect(result.exitCode).toBe(0);
      expect([...proxy.tunnels]).toEqual([[authority, 1]]);
      expect((await apiGet(endpoint, '/version', 5000)).status).toBe(200);
      expect(proxy.tunnels.get(authority)).toBe(2);

      const wrong = new URL(proxy.url);
      wrong.password = 'nope';
      await expect(apiGet({ ...endpoint, proxy: wrong }, '/version', 5000)).rejects.toThrow(/SOCKS5 proxy 127\.0\.0\.1:\d+ did not open a tunnel/);
      expect(proxy.refused).toBe(1);
    } finally {
      await proxy.stop();
      await lab.stop();
    }
  }, 60_000);
});
