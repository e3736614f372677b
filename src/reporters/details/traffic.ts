// The cross-cluster traffic matrix of observability/cross-cluster-traffic in the human report: a
// table source cluster x destination cluster with request rate, share of 5xx and p95 per pair (the
// `traffic` data the check attaches), so a broken direction stands out among healthy ones.
import { fitTable } from '../table.ts';
import type { ChalkInstance } from 'chalk';
import type { DetailRenderer } from './renderer.ts';
import type { TrafficDetail } from '../../engine/details.ts';

/** The attached value (TrafficDetail). A p95 of +Inf reads `null` once the report went through JSON. */
interface TrafficData extends Omit<TrafficDetail, 'pairs'> {
  pairs: (Omit<TrafficDetail['pairs'][number], 'p95Ms'> & { p95Ms?: number | null })[];
}

function isTrafficData(value: unknown): value is TrafficData {
  const v = value as TrafficData | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.window === 'string' &&
    typeof v.errorRateThreshold === 'number' &&
    typeof v.p95ThresholdMs === 'number' &&
    Array.isArray(v.pairs) &&
    v.pairs.every(
      (p) =>
        typeof p === 'object' &&
        p !== null &&
        typeof p.source === 'string' &&
        typeof p.destination === 'string' &&
        typeof p.requestsPerSecond === 'number' &&
        typeof p.errorRate === 'number',
    )
  );
}

/**
 * One table: rows are source clusters, columns destination clusters. A cell reads
 * `2.5/s 0.0% p95 12 ms`: the error share in red above the check's threshold, the p95 in yellow
 * above its own (both thresholds come with the data); `-` where no request went (in-cluster pairs are not measured). Nothing when the
 * metrics show no cross-cluster pair or the value has another shape.
 */
const renderTraffic: DetailRenderer = (value, { chalk, width }) => {
  if (!isTrafficData(value) || value.pairs.length === 0) return [];
  const sources = [...new Set(value.pairs.map((p) => p.source))].sort();
  const destinations = [...new Set(value.pairs.map((p) => p.destination))].sort();
  const head = [chalk.bold('from \\ to'), ...destinations.map((d) => chalk.bold(d))];
  const rows = sources.map((source) => [
    source,
    ...destinations.map((destination) => {
      const pair = value.pairs.find((p) => p.source === source && p.destination === destination);
      return pair ? cell(pair, value, chalk) : chalk.dim('-');
    }),
  ]);
  return [`cross-cluster traffic over ${value.window} (req/s, 5xx, p95):`, ...fitTable({ head, rows }, width)];
};

function cell(pair: TrafficData['pairs'][number], data: TrafficData, chalk: ChalkInstance): string {
  const rate = `${formatNumber(pair.requestsPerSecond)}/s`;
  const percent = `${(pair.errorRate * 100).toFixed(1)}%`;
  const errors = pair.errorRate > data.errorRateThreshold ? chalk.red(percent) : percent;
  return [rate, errors, p95Text(pair.p95Ms, data.p95ThresholdMs, chalk)].join(' ');
}

function p95Text(p95Ms: number | null | undefined, thresholdMs: number, chalk: ChalkInstance): string {
  // undefined: the histogram had no observation; Infinity (null after JSON): above the highest bucket.
  if (p95Ms === undefined) return chalk.dim('p95 -');
  if (p95Ms === null || !Number.isFinite(p95Ms)) return chalk.yellow('p95 > max bucket');
  const text = `p95 ${formatNumber(p95Ms)} ms`;
  return p95Ms > thresholdMs ? chalk.yellow(text) : text;
}

/** Up to two decimals below 10 (small rates and sub-ms latencies stay visible), whole numbers above. */
function formatNumber(value: number): string {
  return value < 10 ? String(Math.round(value * 100) / 100) : String(Math.round(value));
}

export default renderTraffic;
