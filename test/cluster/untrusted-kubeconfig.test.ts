// The one rule for kubeconfigs read from a cluster: inline data only, or a refusal with the reason.
// What happens when such a kubeconfig meets the CLI (marker files, file reads, proxies) is proven
// in test/cli/untrusted-kubeconfig.test.ts.
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadUntrustedKubeconfig } from '../../src/cluster/untrusted-kubeconfig.ts';
import { createServingIdentity } from '../../src/lab/pki.ts';

const SERVER = 'https://10.0.0.2:6443';

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, server = SERVER): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'peer', cluster: { server, ...cluster } }],
    users: [{ name: 'peer', user }],
    contexts: [{ name: 'peer', context: { cluster: 'peer', user: 'peer' } }],
    'current-context': 'peer',
  });
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('loadUntrustedKubeconfig', () => {
  it('keeps inline credentials: server, CA data, token, client certificate and key data, TLS server name', async () => {
    const { serving, ca } = await createServingIdentity('peer');
    const caPem = ca.certPem;
    const loaded = loadUntrustedKubeconfig(
      kubeconfig(
        { 'certificate-authority-data': b64(caPem), 'tls-server-name': 'api.peer' },
        { token: 'abc.def', 'client-certificate-data': b64(serving.certPem), 'client-key-data': b64(serving.keyPem) },
      ),
    );
    expect(loaded).toEqual({
      ok: true,
      credentials: { server: SERVER, caPem, tlsServerName: 'api.peer', token: 'abc.def', clientCertPem: serving.certPem, clientKeyPem: serving.keyPem },
    });
  });

  it.each([
    ['exec', {}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh' } }, /uses exec:/],
    ['auth-provider', {}, { 'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh' } } }, /uses auth-provider gcp:/],
    ['oidc auth-provider (refresh contacts the issuer)', {}, { 'auth-provider': { name: 'oidc', config: { 'id-token': 'x' } } }, /uses auth-provider oidc:/],
    ['token-file', {}, { 'token-file': '/etc/passwd' }, /uses token-file:/],
    ['tokenFile', {}, { tokenFile: '/etc/passwd' }, /uses tokenFile:/],
    ['client-certificate', {}, { 'client-certificate': '/home/me/.kube/cert.pem' }, /uses client-certificate:/],
    ['client-key', {}, { 'client-key': '/home/me/.kube/key.pem' }, /uses client-key:/],
    ['certificate-authority', { 'certificate-authority': '/etc/ssl/ca.pem' }, { token: 'x' }, /uses certificate-authority:/],
    ['proxy-url', { 'proxy-url': 'http://attacker.example:3128' }, { token: 'x' }, /uses proxy-url:/],
    ['impersonation', {}, { token: 'x', as: 'system:admin' }, /uses as, which meshdoctor does not support/],
  ])('refuses %s, keeping the server for context matching', (_name, cluster, user, reason) => {
    const loaded = loadUntrustedKubeconfig(kubeconfig(cluster, user));
    expect(loaded).toEqual({ ok: false, reason: expect.stringMatching(reason), server: SERVER });
  });

  it('refuses servers it would not connect to as written, tokens that are not one header value, and broken PEM', () => {
    for (const server of ['\u001b]0;pwned\u0007https://10.0.0.2:6443', 'https://10.0.0.2:6443\r\nnote: forged', 'not a url', 'file:///etc/passwd', 'https://user:pass@10.0.0.2']) {
      expect(loadUntrustedKubeconfig(kubeconfig({}, { token: 'x' }, server))).toEqual({ ok: false, reason: `its server "${server.replace(/\/+$/, '')}" is not an http(s) URL` });
    }
    expect(loadUntrustedKubeconfig(kubeconfig({}, { token: 'abc\r\nX-Evil: 1' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/token/) });
    expect(loadUntrustedKubeconfig(kubeconfig({ 'certificate-authority-data': b64('garbage') }, {}))).toMatchObject({ ok: false, reason: expect.stringMatching(/certificate-authority-data holds no PEM certificate/) });
    expect(loadUntrustedKubeconfig(kubeconfig({}, { 'client-certificate-data': b64('x'), 'client-key-data': b64('y') }))).toMatchObject({ ok: false, reason: expect.stringMatching(/client certificate cannot be used/) });
    expect(loadUntrustedKubeconfig(kubeconfig({}, { 'client-certificate-data': b64('x') }))).toMatchObject({ ok: false, reason: expect.stringMatching(/without client-key-data/) });
  });

  it('keeps a server\'s path as a prefix and drops its query and fragment, as client-go does', () => {
    for (const [server, used] of [
      ['https://10.0.0.2:6443', 'https://10.0.0.2:6443'],
      ['https://10.0.0.2:6443/', 'https://10.0.0.2:6443'],
      ['https://rancher.example/k8s/clusters/c-1', 'https://rancher.example/k8s/clusters/c-1'],
      ['https://10.0.0.2:6443/?next=/api/v1/namespaces/x/pods/y/exec', 'https://10.0.0.2:6443'],
      ['https://10.0.0.2:6443/prefix/?a=b#frag', 'https://10.0.0.2:6443/prefix'],
      ['https://10.0.0.2:6443#/other', 'https://10.0.0.2:6443'],
    ]) {
      expect(loadUntrustedKubeconfig(kubeconfig({}, { token: 'x' }, server))).toMatchObject({ ok: true, credentials: { server: used } });
    }
  });

  it('refuses what is not a kubeconfig, without throwing', () => {
    for (const text of [undefined, '', 'garbage: [', '- a list', YAML.stringify({ clusters: [] })]) {
      expect(loadUntrustedKubeconfig(text)).toMatchObject({ ok: false, reason: expect.stringMatching(/^unusable kubeconfig: /) });
    }
  });
});
