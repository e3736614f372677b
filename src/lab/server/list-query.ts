// Filtering and paging of lists the way the API server does it: label and field selectors, a stable
// order by namespace/name, and `limit` + opaque `continue` tokens. Sorting is done once per list the
// backend hands out (cached by array identity), and a page scans only from where the last page
// stopped, so walking 10,000 objects in pages of 500 stays linear.
import type { KubeObject, ResourceKindName } from '../../cluster/types.ts';

/** One requirement of a label selector. */
export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** A selector could not be parsed; the server answers 400 with this message. */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

/** Split at commas outside parentheses: `a in (x,y),b` -> [`a in (x,y)`, `b`]. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const SET_REQUIREMENT = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/;
const EQUALITY_REQUIREMENT = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const KEY_ONLY = /^(!?)\s*([^\s!=(),]+)$/;

/** Parse a label selector (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`). */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  return splitTopLevel(selector).map((part): LabelRequirement => {
    let m = SET_REQUIREMENT.exec(part);
    if (m) {
      const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
      return { op: m[2] as 'in' | 'notin', key: m[1], values };
    }
    m = EQUALITY_REQUIREMENT.exec(part);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1], value: m[3] };
    m = KEY_ONLY.exec(part);
    if (m) return { op: m[1] ? 'notexists' : 'exists', key: m[2] };
    throw new SelectorError(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

/** Does a label set satisfy every requirement? (A missing key satisfies `!=` and `notin`, as in Kubernetes.) */
export function matchesLabels(labels: Record<string, string> | undefined, requirements: LabelRequirement[]): boolean {
  for (const r of requirements) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.op) {
      case 'eq':
        if (value !== r.value) return false;
        break;
      case 'neq':
        if (value === r.value) return false;
        break;
      case 'in':
        if (value === undefined || !r.values.includes(value)) return false;
        break;
      case 'notin':
        if (value !== undefined && r.values.includes(value)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** One field selector requirement: `metadata.name=x`, `status.phase!=Running`. */
export interface FieldRequirement {
  field: string;
  negate: boolean;
  value: string;
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
/** Extra fields the real API server supports per kind (the ones worth having in the lab). */
const KIND_FIELDS: Partial<Record<ResourceKindName, string[]>> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  secrets: ['type'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
};

/** Parse a field selector, rejecting fields the kind does not support like the real server does. */
export function parseFieldSelector(selector: string, kind: ResourceKindName): FieldRequirement[] {
  const supported = [...COMMON_FIELDS, ...(KIND_FIELDS[kind] ?? [])];
  return splitTopLevel(selector).map((part) => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    if (!supported.includes(m[1])) throw new SelectorError(`field label not supported: ${m[1]}`);
    return { field: m[1], negate: m[2] === '!=', value: m[3].trim() };
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[part];
  }
  return current === undefined || current === null ? '' : String(current);
}

export function matchesFields(obj: KubeObject, requirements: FieldRequirement[]): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}

/** A kind's objects sorted by namespace/name, with a lookup by key. */
export interface SortedObjects {
  items: KubeObject[];
  keys: string[];
  byKey: Map<string, KubeObject>;
  /** resourceVersion of lists of this kind: the highest numeric object resourceVersion, at least 1. */
  resourceVersion: string;
}

/** Sort key; NUL sorts before every character a name may hold, so `a/b` < `a-x/...`. */
export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}\u0000${name}`;
}

const sortedCache = new WeakMap<KubeObject[], SortedObjects>();

/** The backend's list sorted once; a backend returning the same array again hits the cache. */
export function sortedObjects(list: KubeObject[]): SortedObjects {
  const cached = sortedCache.get(list);
  if (cached) return cached;
  const entries = list.map((obj) => ({ key: objectKey(obj.metadata.namespace, obj.metadata.name), obj }));
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let maxVersion = 1;
  const byKey = new Map<string, KubeObject>();
  for (const e of entries) {
    byKey.set(e.key, e.obj);
    const rv = Number(e.obj.metadata.resourceVersion);
    if (Number.isFinite(rv) && rv > maxVersion) maxVersion = rv;
  }
  const sorted: SortedObjects = { items: entries.map((e) => e.obj), keys: entries.map((e) => e.key), byKey, resourceVersion: String(maxVersion) };
  sortedCache.set(list, sorted);
  return sorted;
}

/** First index whose key is >= `key` (binary search). */
function indexFrom(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What to list: scope, selectors and the page. */
export interface ListQuery {
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  /** 0 or absent = everything. */
  limit?: number;
  continueToken?: string;
}

export interface ListPage {
  items: KubeObject[];
  /** Token of the next page, when there is one. */
  continueToken?: string;
  /** How many objects remain after this page (only known without selectors, like the real server). */
  remainingItemCount?: number;
}

interface ContinuePosition {
  /** Key of the last object returned. */
  after: string;
}

export function encodeContinue(after: string): string {
  return Buffer.from(JSON.stringify({ v: 'lab/1', after } satisfies ContinuePosition & { v: string })).toString('base64url');
}

function decodeContinue(token: string): ContinuePosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; after?: unknown };
    if (parsed.v === 'lab/1' && typeof parsed.after === 'string') return { after: parsed.after };
  } catch {
    // fall through to the error below
  }
  throw new SelectorError('continue key is not valid: invalid continue token');
}

/** One page of a sorted list. Throws SelectorError on a malformed continue token. */
export function pageOf(sorted: SortedObjects, query: ListQuery): ListPage {
  const { keys, items } = sorted;
  let start = 0;
  let end = keys.length;
  if (query.namespace !== undefined) {
    // Namespaced objects sort together: the namespace's range is [ns\0, ns\u0001).
    start = indexFrom(keys, `${query.namespace}\u0000`);
    end = indexFrom(keys, `${query.namespace}\u0001`);
  }
  // The first key after `after` is the first one >= `after\0` (nothing sorts between the two).
  if (query.continueToken) start = Math.max(start, indexFrom(keys, `${decodeContinue(query.continueToken).after}\u0000`));
  const filtered = query.labels.length > 0 || query.fields.length > 0;
  const limit = query.limit && query.limit > 0 ? query.limit : Infinity;
  const page: KubeObject[] = [];
  let i = start;
  for (; i < end && page.length < limit; i++) {
    const obj = items[i];
    if (filtered && !(matchesLabels(obj.metadata.labels, query.labels) && matchesFields(obj, query.fields))) continue;
    page.push(obj);
  }
  if (page.length < limit || i >= end) return { items: page };
  // More may follow: the real server hands out a token whenever it stopped at the limit.
  if (filtered) {
    // Only promise a next page when one more object matches, so clients do not fetch an empty page.
    let more = false;
    for (let j = i; j < end && !more; j++) more = matchesLabels(items[j].metadata.labels, query.labels) && matchesFields(items[j], query.fields);
    if (!more) return { items: page };
    return { items: page, continueToken: encodeContinue(keys[i - 1]) };
  }
  return { items: page, continueToken: encodeContinue(keys[i - 1]), remainingItemCount: end - i };
}
