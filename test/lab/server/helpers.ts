// Shared helpers of the API server tests: HTTPS requests trusting the lab CA, and kubeconfigs.
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabEndpoint } from '../../../src/lab/types.ts';
import { Writable } from 'node:stream';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One HTTPS request to the lab server (no keep-alive), trusting its CA. */
export function call(
  endpoint: LabEndpoint,
  path: string,
  opts: { token?: string; method?: string; accept?: string; body?: string; contentType?: string } = {},
): Promise<HttpResult> {
  const url = new URL(path, endpoint.server);
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.accept) headers.accept = opts.accept;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: opts.method ?? 'GET', ca: endpoint.caPem, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The text of a kubeconfig for one lab endpoint and token. */
export function kubeconfigYaml(endpoint: LabEndpoint, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${endpoint.cluster}`,
    '  cluster:',
    `    server: ${endpoint.server}`,
    `    certificate-authority-data: ${Buffer.from(endpoint.caPem).toString('base64')}`,
    'users:',
    '- name: lab-user',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${endpoint.cluster}`,
    '  context:',
    `    cluster: ${endpoint.cluster}`,
    '    user: lab-user',
    `current-context: ${endpoint.cluster}`,
    '',
  ].join('\n');
}

/** Write a kubeconfig into a fresh temp dir; returns its path and the dir (usable as HOME). */
export function writeKubeconfig(endpoint: LabEndpoint, token: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(path, kubeconfigYaml(endpoint, token));
  return { path, dir };
}

/** A Writable that collects what a client-node stream writes, for assertions. */
export function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
