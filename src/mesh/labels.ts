// Label selectors, in the three forms meshdoctor meets them: a plain map (a Service's or workload's
// `selector`), a Kubernetes LabelSelector (`matchLabels` + `matchExpressions`: NetworkPolicy peers,
// mesh config discoverySelectors), and the selector text kubectl takes (`--probe-from`).

/** Labels or annotations of an object, or a plain map selector. */
export type LabelMap = Record<string, string>;

/** One `matchExpressions` requirement (operators In, NotIn, Exists, DoesNotExist). */
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** A Kubernetes LabelSelector: every `matchLabels` pair and every `matchExpressions` requirement must hold. */
export interface LabelSelector {
  matchLabels?: LabelMap;
  matchExpressions?: LabelSelectorRequirement[];
}

/** True when every key/value of a plain map selector is in `labels`. An empty selector matches nothing (as a Service's). */
export function selectorMatches(selector: LabelMap | undefined, labels: LabelMap | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  return entries.every(([key, value]) => labels?.[key] === value);
}

/**
 * Kubernetes LabelSelector semantics. A missing or empty selector (`{}`) matches everything; an
 * unknown operator matches nothing (the API server rejects those, and istiod skips such a
 * discoverySelector).
 */
export function labelSelectorMatches(selector: LabelSelector | undefined, labels: LabelMap): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every((expr) => requirementHolds(expr, labels));
}

function requirementHolds(expr: LabelSelectorRequirement, labels: LabelMap): boolean {
  const has = Object.hasOwn(labels, expr.key);
  const values = expr.values ?? [];
  switch (expr.operator) {
    case 'In':
      return has && values.includes(labels[expr.key]);
    case 'NotIn':
      return !has || !values.includes(labels[expr.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/**
 * Parse a label selector as kubectl takes it (`a=b,c!=d,e,!f,g in (h,i),j notin (k)`) into a
 * LabelSelector whose requirements are all `matchExpressions`. Throws on bad syntax.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  const matchExpressions = parts
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((part): LabelSelectorRequirement => {
      let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
      if (m) return { key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) };
      m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
      if (m) return { key: m[1], operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] };
      m = /^(!?)([\w./-]+)$/.exec(part);
      if (m) return { key: m[2], operator: m[1] ? 'DoesNotExist' : 'Exists', values: [] };
      throw new Error(`bad label selector "${text}": cannot read "${part}"`);
    });
  return { matchExpressions };
}
