// A probe batch (issue 19): the requests of one probe round (curls, DNS lookups, TCP connects) run
// in one exec of `sh -c` in the source pod instead of one exec each. Each exec is a new TLS
// connection and WebSocket upgrade through the API server (3-4 round trips), so forty requests were
// a long chain of dependent round trips per cluster; the batch is one.
//
// Every request's stdout, stderr and exit code come back as if it had been its own exec. The
// script frames them with a token drawn at random for this batch (128 bits, known only to
// meshdoctor and the script): `TOKEN i e\n` + stderr + `\nTOKEN i o\n` + stdout +
// `\nTOKEN i x CODE\n`, and `TOKEN end\n` after the last. What a request prints (a response body, a
// server's headers in curl -v) cannot end its frame or start another without the token, and the
// parser accepts only well-formed frames, each index once, then the end line: anything else fails
// the whole batch. (The pod itself could print anything, as it could for separate execs: its
// output is data, framed or not.)
//
// Concurrency and time stay as they were (4 requests in flight, each bounded by its own tool's
// timeout): the script runs up to BATCH_LANES lanes as background jobs, lane k running requests k,
// k + lanes, ... one after another. Each lane's output is collected by a command substitution and
// printed only after `wait` (lane 0 writes directly, alone until then), so lanes never interleave.
// The batch therefore takes at most ceil(n / lanes) request timeouts, what the 4-wide pool of
// per-request execs took in the worst case, and its exec deadline is that plus EXEC_SLACK_MS (so a
// pod whose batch hangs is given up at that deadline, where a hanging single exec was given up
// after one request's). The lab's shell (src/lab/sim/shell.ts) runs the script as dash does.
// Only POSIX sh builtins are used (printf, exec, wait, $(...), ${x%x}); the `x` appended inside
// each substitution keeps trailing newlines that substitution would strip. A NUL byte cannot live
// in a shell variable (dash drops it): the one byte a batch does not carry, in bodies nobody reads.
//
// Output is bounded by the exec's own limit (DEFAULT_MAX_OUTPUT_BYTES for the whole batch, as it
// was for each request); a batch beyond it fails like an oversized exec did.
import { randomBytes } from 'node:crypto';
import { AccessError, type ClusterReader, type ExecResult } from '../../cluster/types.ts';
import { EXEC_SLACK_MS, firstLine } from './exec.ts';
import type { ProbeSource } from './source.ts';

/** Requests of a batch in flight at once (the per-request execs ran 4 at a time). */
export const BATCH_LANES = 4;

/** One request of a batch: its argv and the longest it can take (its tool's own timeout). */
export interface BatchRequest {
  argv: string[];
  timeoutMs: number;
}

/** A word quoted for sh where it needs it: single quotes, `'` as `'\''`. Nothing in it is expanded. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** A fresh framing token. */
export function batchToken(): string {
  return `md${randomBytes(16).toString('hex')}`;
}

/** Lanes the requests run in: lane k has requests k, k + lanes, ... */
function lanesOf(count: number): number[][] {
  const lanes = Math.min(BATCH_LANES, count);
  return Array.from({ length: lanes }, (_, k) => Array.from({ length: Math.ceil((count - k) / lanes) }, (_, j) => k + j * lanes));
}

/**
 * The sh script of a batch (see the file comment for its framing and lanes). Function `f` runs one
 * request and frames it; each distinct command is a function `tN` (a round repeats one curl
 * --probe-count times), so the script stays short: it travels in the exec request's URL.
 */
export function batchScript(requests: string[][], token: string): string {
  if (!/^[a-z0-9]+$/.test(token)) throw new Error('a batch token is letters and digits');
  const templates = new Map<string, number>();
  const defs: string[] = [];
  const templateOf = requests.map((argv) => {
    const key = JSON.stringify(argv);
    let n = templates.get(key);
    if (n === undefined) {
      n = templates.size;
      templates.set(key, n);
      defs.push(`t${n}(){ f "$1" ${argv.map(shellQuote).join(' ')}; }`);
    }
    return n;
  });
  // fd 3 is the lane's output: each request's stderr goes there while its stdout is collected.
  const frame =
    `f(){ i=$1; shift; printf '${token} %s e\\n' "$i"; o=$("$@" 2>&3; c=$?; printf x; exit $c); c=$?; ` +
    `printf '\\n${token} %s o\\n%s\\n${token} %s x %s\\n' "$i" "\${o%x}" "$i" "$c"; }`;
  const lane = (indices: number[]) => `{ exec 3>&1; ${indices.map((i) => `t${templateOf[i]} ${i}`).join('; ')}; }`;
  const lanes = lanesOf(requests.length);
  const level = (k: number): string => (k === lanes.length - 1 ? lane(lanes[k]) : `${lane(lanes[k])} & r=$(${level(k + 1)}; printf x); wait; printf '%s' "\${r%x}"`);
  return [frame, ...defs, ...(lanes.length ? [level(0)] : []), `printf '${token} end\\n'`].join('\n');
}

/** Longest script a batch sends, URL-encoded (it is a query parameter of the exec request; proxies in front of API servers often stop at 8 KiB). */
export const MAX_SCRIPT_URL_BYTES = 6000;

/** The requests split into batches whose scripts fit MAX_SCRIPT_URL_BYTES (one batch unless there are very many). */
export function batchesOf<T extends { argv: string[] }>(requests: T[]): T[][] {
  const fits = (n: number, from: number) => encodeURIComponent(batchScript(requests.slice(from, from + n).map((r) => r.argv), 'md' + '0'.repeat(32))).length <= MAX_SCRIPT_URL_BYTES;
  const batches: T[][] = [];
  for (let from = 0; from < requests.length; ) {
    let n = requests.length - from;
    if (!fits(n, from)) {
      // The longest run from `from` that fits (at least one request: a single command is never that long).
      let lo = 1;
      let hi = n;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (fits(mid, from)) lo = mid;
        else hi = mid - 1;
      }
      n = lo;
    }
    batches.push(requests.slice(from, from + n));
    from += n;
  }
  return batches;
}

/** Why a batch's output is not what its script prints. */
class Unframed extends Error {}

/**
 * Each request's result out of a batch's exec result. A batch that printed no frame at all (the
 * exec itself failed: no shell, a broken runtime) gives every request that failure, as its own exec
 * would have; one whose output is not exactly the frames of its requests and the end line throws.
 */
export function parseBatch(result: ExecResult, token: string, count: number): ExecResult[] {
  if (!result.stdout.startsWith(`${token} `)) {
    if (result.exitCode !== 0 && count > 0) return Array.from({ length: count }, () => ({ ...result }));
    throw new Unframed(`no result frames (exit ${result.exitCode}${result.stderr ? `: ${firstLine(result.stderr)}` : ''})`);
  }
  const out = result.stdout;
  const results: (ExecResult | undefined)[] = new Array(count);
  let at = 0;
  for (let n = 0; n < count; n++) {
    const head = new RegExp(`^${token} (\\d+) e\\n`).exec(out.slice(at, at + token.length + 24));
    const i = head ? Number(head[1]) : -1;
    if (!head || i >= count || results[i]) throw new Unframed(`frame ${n + 1} of ${count} missing or malformed`);
    at += head[0].length;
    const stdoutMark = `\n${token} ${i} o\n`;
    const errEnd = out.indexOf(stdoutMark, at);
    if (errEnd < 0) throw new Unframed(`request ${i}: frame not closed`);
    const stderr = out.slice(at, errEnd);
    at = errEnd + stdoutMark.length;
    const exitMark = `\n${token} ${i} x `;
    const outEnd = out.indexOf(exitMark, at);
    if (outEnd < 0) throw new Unframed(`request ${i}: frame not closed`);
    const stdout = out.slice(at, outEnd);
    at = outEnd + exitMark.length;
    const code = /^(\d{1,3})\n/.exec(out.slice(at, at + 5));
    if (!code) throw new Unframed(`request ${i}: no exit code`);
    at += code[0].length;
    results[i] = { exitCode: Number(code[1]), stdout, stderr };
  }
  if (out.slice(at) !== `${token} end\n`) throw new Unframed(at >= out.length ? 'the batch ended before its end line' : 'output after the last frame');
  return results as ExecResult[];
}

/** The exec deadline of a batch: its longest lane's request timeouts, plus one exec's slack. */
export function batchTimeoutMs(requests: BatchRequest[]): number {
  const lanes = lanesOf(requests.length);
  const longest = Math.max(0, ...lanes.map((lane) => lane.reduce((sum, i) => sum + requests[i].timeoutMs, 0)));
  return longest + EXEC_SLACK_MS;
}

/**
 * Run `requests` in the source pod's probe container as one batch; each one's result as if it had
 * been its own exec. Exec transport failures reject (as a request's own exec failing did); output
 * that is not the batch's frames rejects with an AccessError (bad-response).
 */
export async function execBatch(reader: ClusterReader, source: ProbeSource, requests: BatchRequest[], signal?: AbortSignal): Promise<ExecResult[]> {
  // Very many requests (a large --probe-count) make several batches, run one after another: each
  // keeps BATCH_LANES in flight, so the whole still takes what the 4-wide pool of execs took.
  const results: ExecResult[] = [];
  for (const batch of batchesOf(requests)) results.push(...(await execOneBatch(reader, source, batch, signal)));
  return results;
}

async function execOneBatch(reader: ClusterReader, source: ProbeSource, requests: BatchRequest[], signal?: AbortSignal): Promise<ExecResult[]> {
  const token = batchToken();
  const script = batchScript(
    requests.map((r) => r.argv),
    token,
  );
  const result = await reader.exec(source.pod, source.container, ['sh', '-c', script], { timeoutMs: batchTimeoutMs(requests), ...(signal ? { signal } : {}) });
  try {
    return parseBatch(result, token, requests.length);
  } catch (err) {
    if (!(err instanceof Unframed)) throw err;
    throw new AccessError('bad-response', reader.name, `probe batch of ${requests.length} requests in ${source.pod.namespace}/${source.pod.name} (container ${source.container}): unreadable output: ${err.message}`);
  }
}
