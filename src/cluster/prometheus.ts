// A read-only client for the Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/):
// instant queries only. Checks get it as ctx.queryPrometheus and never talk to the network themselves.
import { request } from 'undici';
import { AccessError } from './types.ts';
import { USER_AGENT } from '../version.ts';
import type { PromSample } from '../engine/types.ts';

/** Options of a Prometheus client. */
export interface PrometheusClientOptions {
  /** Deadline of one query, connection included (default 10 s). */
  timeoutMs?: number;
}

/** An instant-query client bound to one Prometheus (or compatible: Thanos, Mimir, VictoriaMetrics) URL. */
export interface PrometheusClient {
  /** The URL as shown in messages (credentials removed). */
  readonly url: string;
  /** Run an instant query; the result must be a vector. Throws AccessError (unreachable, bad-response). */
  query(promql: string, opts?: { signal?: AbortSignal }): Promise<PromSample[]>;
}

/** AccessError's cluster field for errors that concern no cluster. */
const NO_CLUSTER = '*';

/**
 * A client for the Prometheus at `baseUrl` (a path prefix such as `/prometheus` is kept; user:password
 * in the URL becomes basic auth and is never printed).
 */
export function createPrometheusClient(baseUrl: string, opts: PrometheusClientOptions = {}): PrometheusClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const base = new URL(baseUrl);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (base.username || base.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    base.username = '';
    base.password = '';
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const shown = base.href.replace(/\/$/, '');

  return {
    url: shown,
    async query(promql, queryOpts = {}) {
      const url = new URL('api/v1/query', base);
      url.searchParams.set('query', promql);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = queryOpts.signal ? AbortSignal.any([queryOpts.signal, timeout]) : timeout;
      let status: number;
      let text: string;
      try {
        const res = await request(url, { method: 'GET', headers, signal });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        const why = timeout.aborted ? `no answer within ${timeoutMs / 1000}s` : queryOpts.signal?.aborted ? 'query aborted' : describeNetworkError(err);
        throw new AccessError('unreachable', NO_CLUSTER, `Prometheus at ${shown} unreachable: ${why}`);
      }
      return parseQueryResponse(status, text, shown);
    },
  };
}

/** The samples of an instant-query answer, or an AccessError saying what is wrong with it. */
export function parseQueryResponse(status: number, text: string, shownUrl: string): PromSample[] {
  const bad = (why: string) => new AccessError('bad-response', NO_CLUSTER, `Prometheus at ${shownUrl}: ${why}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw bad(`HTTP ${status}, not a Prometheus API answer (is the URL the Prometheus server, without /api/v1?): ${text.slice(0, 80).trim()}`);
  }
  const answer = body as { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
  if (answer.status === 'error') throw bad(`query rejected (HTTP ${status}, ${answer.errorType ?? 'error'}): ${answer.error ?? 'no reason given'}`);
  if (status !== 200 || answer.status !== 'success') throw bad(`HTTP ${status}, status ${JSON.stringify(answer.status)}`);
  if (answer.data?.resultType !== 'vector' || !Array.isArray(answer.data.result)) {
    throw bad(`expected an instant vector, got resultType ${JSON.stringify(answer.data?.resultType)}`);
  }
  return answer.data.result.map((item) => {
    const sample = item as { metric?: Record<string, string>; value?: [number, string] };
    if (!sample.metric || typeof sample.metric !== 'object' || !Array.isArray(sample.value) || typeof sample.value[1] !== 'string') {
      throw bad(`malformed vector sample ${JSON.stringify(item).slice(0, 120)}`);
    }
    return { labels: { ...sample.metric }, value: parseSampleValue(sample.value[1]) };
  });
}

/** Prometheus writes values as strings, with `NaN`, `+Inf` and `-Inf` spelled out. */
function parseSampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}
