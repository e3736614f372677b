// The small part of PromQL the lab's Prometheus answers: `rate(metric{matchers}[window])`,
// `sum [by (labels)] (...)` (either position of `by`) and `histogram_quantile(φ, ...)`, evaluated
// over in-memory series the way Prometheus evaluates them. Anything else is rejected as bad_data.

/** One series of the lab: its labels (with `__name__`) and how its counter grows. */
export interface LabSeries {
  labels: Record<string, string>;
  /** Steady growth per second (the lab's baseline traffic). */
  perSecond: number;
  /** Growth that happened once inside any window asked about (requests the lab's curl made). */
  increase: number;
}

/** One result sample. */
export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

/** A query the lab cannot parse or does not support (Prometheus' `bad_data`). */
export class PromQLError extends Error {}

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

type Expr =
  | { kind: 'rate'; matchers: Matcher[]; windowS: number }
  | { kind: 'sum'; by: string[] | undefined; expr: Expr }
  | { kind: 'quantile'; phi: number; expr: Expr };

/** Parse and evaluate an instant query over `series`. Throws PromQLError for what it does not support. */
export function evaluate(query: string, series: LabSeries[]): VectorSample[] {
  return evalExpr(parse(query), series);
}

/** Parse a query of the supported subset. */
export function parse(query: string): Expr {
  const parser = new Parser(tokenize(query));
  const expr = parser.expr();
  parser.expectEnd();
  return expr;
}

// --- Lexer ---

type Token = { type: 'ident' | 'number' | 'string' | 'duration' | 'punct'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const rest = input.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const duration = /^(\d+(?:ms|[smhdwy]))+(?![\w.])/.exec(rest)?.[0];
    if (duration) {
      tokens.push({ type: 'duration', text: duration });
      i += duration.length;
      continue;
    }
    const number = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(rest)?.[0];
    if (number) {
      tokens.push({ type: 'number', text: number });
      i += number.length;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest)?.[0];
    if (ident) {
      tokens.push({ type: 'ident', text: ident });
      i += ident.length;
      continue;
    }
    if (rest[0] === '"' || rest[0] === "'") {
      const quote = rest[0];
      let value = '';
      let j = 1;
      for (; j < rest.length && rest[j] !== quote; j++) {
        if (rest[j] === '\\' && j + 1 < rest.length) value += unescape(rest[++j]);
        else value += rest[j];
      }
      if (j >= rest.length) throw new PromQLError(`unterminated string at position ${i}`);
      tokens.push({ type: 'string', text: value });
      i += j + 1;
      continue;
    }
    const punct = /^(=~|!~|!=|[=(){}[\],])/.exec(rest)?.[0];
    if (!punct) throw new PromQLError(`unexpected character "${rest[0]}" at position ${i}`);
    tokens.push({ type: 'punct', text: punct });
    i += punct.length;
  }
  return tokens;
}

function unescape(c: string): string {
  return c === 'n' ? '\n' : c === 't' ? '\t' : c;
}

// --- Parser ---

class Parser {
  private readonly tokens: Token[];
  private pos = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  expr(): Expr {
    const name = this.take('ident').text;
    if (name === 'sum') {
      let by = this.byClause();
      this.punct('(');
      const expr = this.expr();
      this.punct(')');
      by ??= this.byClause();
      return { kind: 'sum', by, expr };
    }
    if (name === 'rate') {
      this.punct('(');
      const metric = this.take('ident').text;
      const matchers: Matcher[] = [{ label: '__name__', op: '=', value: metric }];
      if (this.peekPunct('{')) matchers.push(...this.matchers());
      this.punct('[');
      const windowS = durationSeconds(this.take('duration').text);
      this.punct(']');
      this.punct(')');
      return { kind: 'rate', matchers, windowS };
    }
    if (name === 'histogram_quantile') {
      this.punct('(');
      const phi = Number(this.take('number').text);
      this.punct(',');
      const expr = this.expr();
      this.punct(')');
      return { kind: 'quantile', phi, expr };
    }
    throw new PromQLError(`unsupported by the lab's Prometheus: ${name} (it answers sum, rate and histogram_quantile)`);
  }

  expectEnd(): void {
    if (this.pos < this.tokens.length) throw new PromQLError(`unexpected "${this.tokens[this.pos].text}" after the expression`);
  }

  private byClause(): string[] | undefined {
    const next = this.tokens[this.pos];
    if (next?.type !== 'ident') return undefined;
    if (next.text === 'without') throw new PromQLError('unsupported by the lab\'s Prometheus: without');
    if (next.text !== 'by') return undefined;
    this.pos++;
    this.punct('(');
    const labels: string[] = [];
    while (!this.peekPunct(')')) {
      labels.push(this.take('ident').text);
      if (!this.peekPunct(')')) this.punct(',');
    }
    this.punct(')');
    return labels;
  }

  private matchers(): Matcher[] {
    this.punct('{');
    const matchers: Matcher[] = [];
    while (!this.peekPunct('}')) {
      const label = this.take('ident').text;
      const op = this.take('punct').text;
      if (op !== '=' && op !== '!=' && op !== '=~' && op !== '!~') throw new PromQLError(`unexpected "${op}" after label ${label}`);
      const valueToken = this.tokens[this.pos];
      if (valueToken?.type !== 'string') {
        throw new PromQLError(`label ${label} must be compared with a string${valueToken ? `, not "${valueToken.text}"` : ''}`);
      }
      this.pos++;
      matchers.push({ label, op, value: valueToken.text });
      if (!this.peekPunct('}')) this.punct(',');
    }
    this.punct('}');
    return matchers;
  }

  private peekPunct(text: string): boolean {
    const t = this.tokens[this.pos];
    return t?.type === 'punct' && t.text === text;
  }

  private punct(text: string): void {
    if (!this.peekPunct(text)) throw new PromQLError(`expected "${text}"${this.tokens[this.pos] ? `, got "${this.tokens[this.pos].text}"` : ' at the end'}`);
    this.pos++;
  }

  private take(type: Token['type']): Token {
    const t = this.tokens[this.pos];
    if (t?.type !== type) throw new PromQLError(`expected a ${type}${t ? `, got "${t.text}"` : ' at the end'}`);
    this.pos++;
    return t;
  }
}

function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|[smhdwy])/g)) total += Number(n) * units[unit];
  if (total <= 0) throw new PromQLError(`bad window ${text}`);
  return total;
}

// --- Evaluation ---

function evalExpr(expr: Expr, series: LabSeries[]): VectorSample[] {
  switch (expr.kind) {
    case 'rate':
      return series
        .filter((s) => expr.matchers.every((m) => matches(m, s.labels[m.label] ?? '')))
        .map((s) => {
          const labels = { ...s.labels };
          delete labels.__name__;
          return { labels, value: s.perSecond + s.increase / expr.windowS };
        });
    case 'sum':
      return sumBy(evalExpr(expr.expr, series), expr.by);
    case 'quantile':
      return histogramQuantile(expr.phi, evalExpr(expr.expr, series));
  }
}

function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return fullMatch(m.value).test(value);
    case '!~':
      return !fullMatch(m.value).test(value);
  }
}

/** PromQL regex matchers are anchored at both ends. */
function fullMatch(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new PromQLError(`bad regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

function sumBy(samples: VectorSample[], by: string[] | undefined): VectorSample[] {
  const groups = new Map<string, VectorSample>();
  for (const sample of samples) {
    const labels: Record<string, string> = {};
    for (const label of by ?? []) if (sample.labels[label]) labels[label] = sample.labels[label];
    const key = JSON.stringify(Object.entries(labels).sort());
    const group = groups.get(key);
    if (group) group.value += sample.value;
    else groups.set(key, { labels, value: sample.value });
  }
  return [...groups.values()];
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
function histogramQuantile(phi: number, samples: VectorSample[]): VectorSample[] {
  const groups = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
  for (const sample of samples) {
    const { le, ...labels } = sample.labels;
    if (le === undefined) continue;
    const key = JSON.stringify(Object.entries(labels).sort());
    const group = groups.get(key) ?? { labels, buckets: [] };
    group.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: sample.value });
    groups.set(key, group);
  }
  return [...groups.values()].map(({ labels, buckets }) => ({ labels, value: quantileOf(phi, buckets.sort((a, b) => a.le - b.le)) }));
}

function quantileOf(phi: number, buckets: { le: number; count: number }[]): number {
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  const last = buckets[buckets.length - 1];
  if (buckets.length < 2 || last.le !== Infinity || last.count === 0) return NaN;
  const rank = phi * last.count;
  const i = buckets.findIndex((b) => b.count >= rank);
  if (i === buckets.length - 1) return buckets[buckets.length - 2].le;
  const start = i === 0 ? 0 : buckets[i - 1].le;
  const before = i === 0 ? 0 : buckets[i - 1].count;
  const { le: end, count } = buckets[i];
  if (count === before) return end;
  return start + ((end - start) * (rank - before)) / (count - before);
}
