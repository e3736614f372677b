// One HTTP request by curl from the source pod, and what its outcome means: curl's exit code, the
// HTTP status, and Envoy's local reply when the sidecar answered instead of the application.
import type { ExecResult } from '../../cluster/types.ts';
import { firstLine, seconds } from './exec.ts';

/** Why a request failed. */
export type FailureKind = 'dns' | 'connect' | 'timeout' | 'tls' | 'reset' | 'upstream' | 'server' | 'other';

/** The outcome of one request. */
export interface ProbeRequest {
  /** curl's exit code. */
  exitCode: number;
  /** HTTP status (0 when none came back). */
  status: number;
  /** curl's time_total in ms (undefined when unknown). */
  ms?: number;
  failure?: { kind: FailureKind; detail: string };
  /** The start of the response body (BODY_HEAD_CHARS): which pod served, for apps that say so (helloworld). */
  bodyHead?: string;
}

/** Characters of a response body kept per request: enough for a greeting that names its pod. */
const BODY_HEAD_CHARS = 256;

const MARKER = '__meshdoctor__';
const WRITE_OUT = `\\n${MARKER} %{http_code} %{time_total}\\n`;

/** The curl command of one request (body on stdout: Envoy's 503 reason is in it). */
export function curlCommand(url: string, timeoutMs: number): string[] {
  return ['curl', '-sS', '-m', seconds(timeoutMs), '-w', WRITE_OUT, url];
}

/** Envoy's local reply bodies for upstream failures, as Envoy words them. */
const ENVOY_REASON = /(no healthy upstream|upstream connect error[^\n]*|upstream request timeout|no route to host|delayed connect error[^\n]*)/i;

/** curl's own error line (`curl: (7) Failed to connect ...`), '' when it printed none. */
export function curlErrorLine(stderr: string): string {
  return firstLine(stderr.split('\n').filter((l) => l.startsWith('curl:')).join('\n'));
}

/** curl exit codes that end a request before any HTTP answer, and what they mean. */
const CURL_EXIT_KINDS: Record<number, FailureKind> = { 6: 'dns', 7: 'connect', 28: 'timeout', 35: 'tls', 60: 'tls', 52: 'reset', 56: 'reset' };

/**
 * Classify a curl result: curl exit 6 DNS, 7 connect, 28 timeout, 35/60 TLS, 52/56 reset; an HTTP
 * 5xx with Envoy's reason in the body is `upstream` (or `tls` when the reason is a TLS error), another
 * 5xx is the server's own. Status below 500 is a success: the request reached the application.
 */
export function classifyCurl(result: ExecResult): ProbeRequest {
  const markerAt = result.stdout.lastIndexOf(MARKER);
  const written = markerAt >= 0 ? result.stdout.slice(markerAt + MARKER.length).trim().split(/\s+/) : [];
  const status = Number(written[0]) || 0;
  const time = Number(written[1]);
  const body = markerAt >= 0 ? result.stdout.slice(0, markerAt) : result.stdout;
  const request: ProbeRequest = { exitCode: result.exitCode, status };
  if (body.trim()) request.bodyHead = body.slice(0, BODY_HEAD_CHARS);
  if (Number.isFinite(time) && written[1] !== undefined) request.ms = Math.round(time * 1000 * 10) / 10;
  if (result.exitCode !== 0) {
    const curlError = curlErrorLine(result.stderr) || firstLine(result.stderr) || `curl exited ${result.exitCode}`;
    request.failure = { kind: CURL_EXIT_KINDS[result.exitCode] ?? 'other', detail: curlError };
    return request;
  }
  if (markerAt < 0) {
    request.failure = { kind: 'other', detail: 'curl printed no result line (an old curl without -w?)' };
  } else if (status >= 500) {
    const reason = ENVOY_REASON.exec(body)?.[0]?.trim();
    if (reason) request.failure = { kind: /TLS error|CERTIFICATE_VERIFY_FAILED|SSL/i.test(reason) ? 'tls' : 'upstream', detail: `HTTP ${status}: ${reason}` };
    else request.failure = { kind: 'server', detail: `HTTP ${status}${body.trim() ? `: ${firstLine(body).slice(0, 160)}` : ''}` };
  }
  return request;
}
