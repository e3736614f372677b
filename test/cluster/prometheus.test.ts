// The Prometheus client against the lab's Prometheus (real HTTP), and against small servers that
// misbehave the ways a real endpoint can: refused, silent, not Prometheus, wrong result type.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_P95, QUERY_REQUESTS } from '../../src/checks/observability/cross-cluster-traffic.ts';
import { createPrometheusClient } from '../../src/cluster/prometheus.ts';
import { AccessError } from '../../src/cluster/types.ts';
import { buildMeshState } from '../../src/lab/model/index.ts';
import { startLabPrometheus, type LabPrometheus } from '../../src/lab/prometheus.ts';
import { fakeEndpoints } from '../lab/model/helpers.ts';

let lab: LabPrometheus;
/** A server whose answer each test sets; records the last request's headers. */
let stub: Server;
let stubUrl: string;
let stubAnswer: { status: number; body: string; hang?: boolean } = { status: 200, body: '' };
let lastHeaders: Record<string, string | string[] | undefined> = {};

beforeAll(async () => {
  lab = await startLabPrometheus(await buildMeshState({ scenario: 'multi-primary', endpoints: fakeEndpoints(2) }));
  stub = createServer((req, res) => {
    lastHeaders = req.headers;
    if (stubAnswer.hang) return;
    res.writeHead(stubAnswer.status, { 'content-type': 'application/json' });
    res.end(stubAnswer.body);
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await lab?.stop();
  stub?.closeAllConnections();
  await new Promise((resolve) => stub?.close(resolve));
});

async function accessError(promise: Promise<unknown>): Promise<AccessError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccessError);
  return err as AccessError;
}

describe('createPrometheusClient against the lab Prometheus', () => {
  it('answers the check\'s queries with a vector per cluster pair', async () => {
    const samples = await createPrometheusClient(lab.url).query(QUERY_REQUESTS);
    const pairs = samples.map((s) => `${s.labels.source_cluster}>${s.labels.destination_cluster}`).sort();
    expect(pairs).toEqual(['cluster1>cluster1', 'cluster1>cluster2', 'cluster2>cluster1', 'cluster2>cluster2']);
    expect(samples.every((s) => s.value > 0 && Object.keys(s.labels).length === 2)).toBe(true);
    const p95 = await createPrometheusClient(`${lab.url}/`).query(QUERY_P95);
    expect(p95.every((s) => Number.isFinite(s.value) && s.value > 0 && s.value < 1000)).toBe(true);
  });

  it('a query Prometheus rejects is bad-response with its reason and the URL', async () => {
    const err = await accessError(createPrometheusClient(lab.url).query('up{job='));
    expect(err.reason).toBe('bad-response');
    expect(err.message).toContain(lab.url);
    expect(err.message).toMatch(/bad_data/);
  });
});

describe('createPrometheusClient failures', () => {
  it('refused connection: unreachable, naming the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const err = await accessError(createPrometheusClient(url).query('up'));
    expect(err.reason).toBe('unreachable');
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('no answer: unreachable after the timeout; the caller\'s signal aborts too', async () => {
    stubAnswer = { status: 200, body: '', hang: true };
    const timedOut = await accessError(createPrometheusClient(stubUrl, { timeoutMs: 200 }).query('up'));
    expect(timedOut.reason).toBe('unreachable');
    expect(timedOut.message).toMatch(/no answer within 0.2s/);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await accessError(createPrometheusClient(stubUrl).query('up', { signal: controller.signal }));
    expect(aborted.message).toMatch(/aborted/);
  });

  it.each([
    ['not JSON (a web UI, not the API)', 200, '<html>Grafana</html>'],
    ['a range result', 200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })],
    ['HTTP 503 without a body', 503, ''],
    ['a malformed sample', 200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {} }] } })],
  ])('%s: bad-response', async (_what, status, body) => {
    stubAnswer = { status, body };
    const err = await accessError(createPrometheusClient(stubUrl).query('up'));
    expect(err.reason).toBe('bad-response');
    expect(err.message).toContain(stubUrl);
  });

  it('parses NaN and +Inf; credentials in the URL become basic auth and are never shown', async () => {
    stubAnswer = { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: '1' }, value: [1, 'NaN'] }, { metric: { a: '2' }, value: [1, '+Inf'] }] } }) };
    const client = createPrometheusClient(stubUrl.replace('http://', 'http://reader:s3cret@'));
    expect(client.url).not.toContain('s3cret');
    const samples = await client.query('up');
    expect(samples.map((s) => s.value)).toEqual([NaN, Infinity]);
    expect(lastHeaders.authorization).toBe(`Basic ${Buffer.from('reader:s3cret').toString('base64')}`);
  });
});
