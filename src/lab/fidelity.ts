// The lab's fidelity to the real istiod: what the lab's simulated istiod serves, compared with what
// Istio's own code (conformance/istiod) serves for the same objects, on the fields meshdoctor reads.
// Both sides go through meshdoctor's own parsers (src/mesh/debug), so a field compared here is a field
// a check can read. The goldens are written by `npm run conformance:regen`; docs/lab-fidelity.md and
// test/conformance/fidelity.test.ts read the result.
import { parseEndpointShardz } from '../mesh/debug/endpoint-shardz.ts';
import { parseNetworkz } from '../mesh/debug/networkz.ts';
import { parseRegistryz } from '../mesh/debug/registryz.ts';
import { parseSyncz } from '../mesh/debug/syncz.ts';
import { fakeSidecarPod, type ExportManifest } from './export.ts';
import { LAB_FAULTS } from './model/catalog.ts';
import { debugRequest } from './sim/debug.ts';
import { outboundClusters, proxyNetwork } from './sim/envoy.ts';
import { meshSimOf } from './sim/mesh.ts';
import type { LabMeshState } from './types.ts';

/** A scenario with faults the goldens cover. */
export interface ConformanceCase {
  /** Directory name under conformance/golden. */
  name: string;
  scenario: string;
  faults: { name: string; cluster?: string }[];
}

/** The build moment of every conformance mesh (object timestamps). */
export const CONFORMANCE_NOW = new Date('2026-01-01T00:00:00Z');

/** Debug endpoints (and eds, the sidecars' endpoints) a golden holds per primary. */
export const GOLDEN_FILES = ['registryz', 'endpointShardz', 'networkz', 'configz', 'syncz', 'eds'] as const;
export type GoldenFile = (typeof GOLDEN_FILES)[number];

/** The golden bodies of one primary (file -> text). */
export type PrimaryGolden = Partial<Record<GoldenFile, string>>;

/** One field on which the lab and istiod disagree. */
export interface FidelityDifference {
  case: string;
  primary: string;
  endpoint: GoldenFile;
  /** What the field belongs to: a hostname, `hostname cluster`, a proxy, an Envoy cluster name. */
  key: string;
  field: string;
  istiod: unknown;
  lab: unknown;
}

/** Fields compared and how many were equal, with every difference. */
export interface FidelityResult {
  compared: number;
  equal: number;
  /** Fields compared per endpoint, and equal. */
  byEndpoint: Partial<Record<GoldenFile, { compared: number; equal: number }>>;
  differences: FidelityDifference[];
}

/** Canonical JSON: object keys sorted, so equal values print equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as Record<string, unknown>).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

class Comparison {
  readonly result: FidelityResult = { compared: 0, equal: 0, byEndpoint: {}, differences: [] };
  private readonly caseName: string;
  private readonly primary: string;
  constructor(caseName: string, primary: string) {
    this.caseName = caseName;
    this.primary = primary;
  }

  field(endpoint: GoldenFile, key: string, field: string, istiod: unknown, lab: unknown): void {
    const counts = (this.result.byEndpoint[endpoint] ??= { compared: 0, equal: 0 });
    this.result.compared++;
    counts.compared++;
    if (canonical(istiod) === canonical(lab)) {
      this.result.equal++;
      counts.equal++;
    } else {
      this.result.differences.push({ case: this.caseName, primary: this.primary, endpoint, key, field, istiod, lab });
    }
  }
}

/** Merge fidelity results (counts add up, differences concatenate). */
export function mergeResults(results: FidelityResult[]): FidelityResult {
  const out: FidelityResult = { compared: 0, equal: 0, byEndpoint: {}, differences: [] };
  for (const r of results) {
    out.compared += r.compared;
    out.equal += r.equal;
    out.differences.push(...r.differences);
    for (const [endpoint, c] of Object.entries(r.byEndpoint) as [GoldenFile, { compared: number; equal: number }][]) {
      const counts = (out.byEndpoint[endpoint] ??= { compared: 0, equal: 0 });
      counts.compared += c.compared;
      counts.equal += c.equal;
    }
  }
  return out;
}

const sorted = <T>(list: T[]): T[] => [...list].sort((a, b) => canonical(a).localeCompare(canonical(b)));

/** Compare a primary's simulated istiod with its golden. */
export function comparePrimary(mesh: LabMeshState, manifest: ExportManifest, caseName: string, primary: string, golden: PrimaryGolden): FidelityResult {
  const sim = meshSimOf(mesh);
  const istiod = sim.istiodIn(primary);
  const cmp = new Comparison(caseName, primary);
  if (!istiod) {
    cmp.field('registryz', primary, 'istiod runs', true, false);
    return cmp.result;
  }
  const lab = (endpoint: string) => debugRequest(sim, istiod, endpoint).body;

  if (golden.registryz !== undefined) {
    const real = new Map(parseRegistryz(golden.registryz).map((s) => [s.hostname, s]));
    const simulated = new Map(parseRegistryz(lab('registryz')).map((s) => [s.hostname, s]));
    for (const host of new Set([...real.keys(), ...simulated.keys()])) {
      const a = real.get(host);
      const b = simulated.get(host);
      cmp.field('registryz', host, 'present', Boolean(a), Boolean(b));
      if (!a || !b) continue;
      cmp.field('registryz', host, 'namespace', a.namespace, b.namespace);
      cmp.field('registryz', host, 'name', a.name, b.name);
      cmp.field('registryz', host, 'registry', a.registry, b.registry);
      cmp.field('registryz', host, 'clusterVips', a.clusterVips, b.clusterVips);
      cmp.field('registryz', host, 'ports', sorted(a.ports), sorted(b.ports));
      cmp.field('registryz', host, 'labels', a.labels, b.labels);
    }
  }

  if (golden.endpointShardz !== undefined) {
    const key = (s: { hostname: string; namespace: string }) => `${s.hostname} ${s.namespace}`;
    const real = new Map(parseEndpointShardz(golden.endpointShardz).map((s) => [key(s), s]));
    const simulated = new Map(parseEndpointShardz(lab('endpointShardz')).map((s) => [key(s), s]));
    for (const k of new Set([...real.keys(), ...simulated.keys()])) {
      const a = real.get(k);
      const b = simulated.get(k);
      cmp.field('endpointShardz', k, 'present', Boolean(a), Boolean(b));
      if (!a || !b) continue;
      for (const shard of new Set([...Object.keys(a.shards), ...Object.keys(b.shards)])) {
        const ea = a.shards[shard];
        const eb = b.shards[shard];
        cmp.field('endpointShardz', `${k} ${shard}`, 'shard present', Boolean(ea), Boolean(eb));
        if (!ea || !eb) continue;
        // Endpoints by address: one per service port in both.
        const byAddr = (list: typeof ea) => {
          const m = new Map<string, typeof ea>();
          for (const e of list) m.set(e.addresses.join(','), [...(m.get(e.addresses.join(',')) ?? []), e]);
          return m;
        };
        const ma = byAddr(ea);
        const mb = byAddr(eb);
        for (const addr of new Set([...ma.keys(), ...mb.keys()])) {
          const xa = ma.get(addr);
          const xb = mb.get(addr);
          const where = `${k} ${shard} ${addr}`;
          cmp.field('endpointShardz', where, 'endpoints (one per port)', xa?.length ?? 0, xb?.length ?? 0);
          if (!xa || !xb) continue;
          for (const f of ['network', 'tlsMode', 'workloadName', 'healthy', 'clusterId'] as const) {
            cmp.field('endpointShardz', where, f, sorted(xa.map((e) => e[f])), sorted(xb.map((e) => e[f])));
          }
          cmp.field('endpointShardz', where, 'labels', sorted(xa.map((e) => e.labels)), sorted(xb.map((e) => e.labels)));
        }
      }
    }
  }

  if (golden.networkz !== undefined) {
    cmp.field('networkz', 'gateways', 'gateways', sorted(parseNetworkz(golden.networkz)), sorted(parseNetworkz(lab('networkz'))));
  }

  if (golden.syncz !== undefined) {
    const simulated = new Map(parseSyncz(lab('syncz')).map((p) => [p.proxy, p]));
    for (const real of parseSyncz(golden.syncz)) {
      const b = simulated.get(real.proxy);
      cmp.field('syncz', real.proxy, 'present', true, Boolean(b));
      if (!b) continue;
      cmp.field('syncz', real.proxy, 'clusterId', real.clusterId, b.clusterId);
      cmp.field('syncz', real.proxy, 'proxyType', real.proxyType, b.proxyType);
      cmp.field('syncz', real.proxy, 'istioVersion', real.istioVersion, b.istioVersion);
      cmp.field('syncz', real.proxy, 'watchedKnown', real.watchedKnown, b.watchedKnown);
      const types = (p: typeof real) => sorted(p.types.map((t) => ({ type: t.type, state: t.state, lastError: t.lastError ?? '' })));
      cmp.field('syncz', real.proxy, 'types', types(real), types(b));
    }
  }

  if (golden.configz !== undefined) {
    const ids = (body: string) => sorted((JSON.parse(body) as { kind?: string; metadata?: { namespace?: string; name?: string } }[] | null ?? []).map((c) => `${c.kind}/${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`));
    cmp.field('configz', 'configs', 'kind/namespace/name', ids(golden.configz), ids(lab('configz')));
  }

  if (golden.eds !== undefined) {
    const edsGolden = JSON.parse(golden.eds) as Record<string, ClusterLoadAssignment[]>;
    const exported = manifest.primaries.find((p) => p.name === primary);
    for (const proxy of exported?.proxies ?? []) {
      const proxyKey = `${proxy.cluster}/${proxy.namespace}/${proxy.pod}`;
      const view = sim.view(proxy.cluster);
      const pod = fakeSidecarPod(view);
      const real = new Map((edsGolden[proxyKey] ?? []).map((cla) => [cla.clusterName, lbHosts(cla)]));
      const simulated = new Map(
        outboundClusters(istiod, pod ? proxyNetwork(view, pod) : view.network, proxy.clusterId)
          .filter((c) => !c.service.headless)
          .map((c) => [c.name, sorted(c.hosts.map((h) => ({ address: `${h.address}:${h.port}`, weight: h.weight })))]),
      );
      // istiod also builds subset clusters (outbound|port|subset|host) that the lab does not model.
      for (const name of new Set([...real.keys(), ...simulated.keys()])) {
        if (!/^outbound\|\d+\|\|/.test(name)) continue;
        const a = real.get(name);
        const b = simulated.get(name);
        cmp.field('eds', `${proxyKey} ${name}`, 'present', Boolean(a), Boolean(b));
        if (!a || !b) continue;
        cmp.field('eds', `${proxyKey} ${name}`, 'hosts', a, b);
      }
    }
  }
  return cmp.result;
}

/** The parts of an Envoy ClusterLoadAssignment (protojson) the comparison reads. */
export interface ClusterLoadAssignment {
  clusterName: string;
  endpoints?: {
    lbEndpoints?: { endpoint?: { address?: { socketAddress?: { address?: string; portValue?: number } } }; loadBalancingWeight?: number }[];
  }[];
}

function lbHosts(cla: ClusterLoadAssignment): { address: string; weight: number }[] {
  const out: { address: string; weight: number }[] = [];
  for (const locality of cla.endpoints ?? []) {
    for (const lb of locality.lbEndpoints ?? []) {
      const sa = lb.endpoint?.address?.socketAddress;
      out.push({ address: `${sa?.address ?? ''}:${sa?.portValue ?? 0}`, weight: lb.loadBalancingWeight ?? 1 });
    }
  }
  return sorted(out);
}

/** A difference the lab keeps on purpose or cannot avoid, with why (docs/lab-fidelity.md lists them). */
export interface KnownDifference {
  endpoint: GoldenFile;
  field: string;
  /** Keys it applies to (regular expression source); all when absent. */
  key?: string;
  /** Cases it applies to (regular expression source); all when absent. */
  cases?: string;
  reason: string;
}

/** Whether a known difference explains a difference. */
export function explains(known: KnownDifference, d: FidelityDifference): boolean {
  return (
    known.endpoint === d.endpoint &&
    known.field === d.field &&
    (known.key === undefined || new RegExp(known.key).test(d.key)) &&
    (known.cases === undefined || new RegExp(known.cases).test(d.case))
  );
}

/**
 * The cases the goldens cover: every scenario as it is, and every lab fault on multi-primary (on
 * primary-remote for the faults only it has) but those with no object effect, which istiod's view
 * cannot show (the lab injects them past the objects).
 */
export function conformanceCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = CONFORMANCE_SCENARIOS.map((scenario) => ({ name: scenario, scenario, faults: [] }));
  for (const fault of LAB_FAULTS) {
    if (NO_OBJECT_EFFECT.has(fault.name)) continue;
    // Ambient faults: the oracle runs istiod without ztunnel or the ambient controllers (no
    // PILOT_ENABLE_AMBIENT), so it has no view to compare yet (docs/lab-fidelity.md, what the oracle cannot judge).
    if (fault.topologies?.every((t) => !CONFORMANCE_SCENARIOS.includes(t))) continue;
    const scenario = fault.topologies && !fault.topologies.includes('multi-primary') ? fault.topologies[0] : 'multi-primary';
    cases.push({ name: `${scenario}--${fault.name}`, scenario, faults: [{ name: fault.name }] });
  }
  return cases;
}

/** Faults the lab's sim applies without changing an object (their descriptions say so). */
const NO_OBJECT_EFFECT = new Set(['remote-sync-timeout', 'proxy-stale', 'eastwest-firewall']);

const CONFORMANCE_SCENARIOS = ['multi-primary', 'multi-primary-single-network', 'primary-remote', 'external-control-plane', 'demo'];

/** Stable text of a golden: keys sorted, lists in a fixed order, xDS nonces and send times replaced. */
export function canonicalGolden(file: GoldenFile, body: string): string {
  let doc = JSON.parse(body) as unknown;
  const byText = (list: unknown[]) => [...list].sort((a, b) => canonical(a).localeCompare(canonical(b)));
  if (file === 'syncz' && Array.isArray(doc)) {
    doc = byText(
      doc.map((entry: Record<string, unknown>) => {
        // Nonces are random: name them by first appearance within the proxy, which keeps sent == acked.
        const names = new Map<string, string>();
        const nonce = (v: unknown) => (typeof v === 'string' && v ? (names.get(v) ?? (names.set(v, `nonce-${names.size + 1}`), names.get(v))) : v);
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(entry)) out[k] = /_(sent|acked)$/.test(k) ? nonce(v) : v;
        if (entry.resources && typeof entry.resources === 'object') {
          out.resources = Object.fromEntries(
            Object.entries(entry.resources as Record<string, Record<string, unknown>>).map(([type, r]) => {
              const { sentTime: _sentTime, ...rest } = r;
              return [type, { ...rest, sent: nonce(r.sent), acked: nonce(r.acked) }];
            }),
          );
        }
        return out;
      }),
    );
  } else if (file === 'endpointShardz' && doc && typeof doc === 'object') {
    for (const byNs of Object.values(doc as Record<string, Record<string, { Shards?: Record<string, unknown[]> }>>)) {
      for (const set of Object.values(byNs)) for (const [k, list] of Object.entries(set.Shards ?? {})) if (Array.isArray(list)) set.Shards![k] = byText(list);
    }
  } else if (file === 'eds' && doc && typeof doc === 'object') {
    for (const list of Object.values(doc as Record<string, { endpoints?: { lbEndpoints?: unknown[] }[] }[] | null>)) {
      for (const cla of list ?? []) {
        for (const locality of cla.endpoints ?? []) if (locality.lbEndpoints) locality.lbEndpoints = byText(locality.lbEndpoints);
        if (cla.endpoints) cla.endpoints = byText(cla.endpoints) as typeof cla.endpoints;
      }
    }
  } else if (Array.isArray(doc)) {
    doc = byText(doc);
  }
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}

/**
 * Differences the lab keeps, each with its reason (docs/lab-fidelity.md lists them). Those marked
 * "Open" are simulation bugs the oracle found that are not fixed yet; they are listed so that any new
 * difference still fails the fidelity test.
 */
export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    endpoint: 'endpointShardz',
    field: 'shard present',
    cases: '--(istiod|ewgw)-not-ready$',
    reason: 'Open: istiod keeps the not-ready endpoints of an EndpointSlice in its shards (HealthStatus UnHealthy); the lab drops them.',
  },
  {
    endpoint: 'eds',
    field: 'hosts',
    cases: '--(istiod|ewgw)-not-ready$',
    reason: 'Open: istiod sends not-ready endpoints in EDS (marked unhealthy, so Envoy does not route to them); the lab leaves them out.',
  },
  {
    endpoint: 'networkz',
    field: 'gateways',
    cases: '--discovery-selectors-exclude$',
    reason: "Open: istiod discovers no gateway Service in a namespace its discoverySelectors leave out (the peer's istio-system here); the lab still lists it.",
  },
  {
    endpoint: 'registryz',
    field: 'present',
    cases: '--legacy-global-config$',
    reason: 'Open: istiod serves ServiceEntry hosts (helloworld.sample.global) in its registry; the lab has no ServiceEntry registry.',
  },
  {
    endpoint: 'endpointShardz',
    field: 'present',
    cases: '--legacy-global-config$',
    reason: "Open: istiod holds the ServiceEntry's endpoints (shard of the External provider); the lab has none.",
  },
];

/** Read the goldens of a case directory: primary -> file -> text. */
export function readCaseGoldens(caseDir: string, primaries: string[], read: (path: string) => string | undefined): Map<string, PrimaryGolden> {
  const out = new Map<string, PrimaryGolden>();
  for (const primary of primaries) {
    const golden: PrimaryGolden = {};
    for (const file of GOLDEN_FILES) {
      const text = read(`${caseDir}/${primary}/${file}.json`);
      if (text !== undefined) golden[file] = text;
    }
    out.set(primary, golden);
  }
  return out;
}

/** docs/lab-fidelity.md: what was compared, the agreement as counts, and every known difference. */
export function renderFidelityMarkdown(result: FidelityResult, cases: ConformanceCase[], istioVersion: string): string {
  const lines = [
    '# Lab fidelity: the simulated istiod against the real one',
    '',
    '<!-- Generated by `npm run conformance:regen` (and checked by test/conformance/fidelity.test.ts); do not edit. -->',
    '',
    `The lab's simulated istiod (src/lab/sim/istiod.ts, debug.ts, envoy.ts) is compared with Istio's own code, \`istio.io/istio\` ${istioVersion},`,
    "run by conformance/istiod over the objects the lab serves (`meshdoctor lab export`). istiod runs as Istio's",
    '`pilot/test/xds` FakeDiscoveryServer: its service registries, aggregate controller, mesh networks and EDS over fake',
    'Kubernetes clients, one per cluster the primary syncs. Both sides are read through meshdoctor\'s own parsers',
    '(src/mesh/debug), so every field compared is a field a check reads.',
    '',
    '## What the oracle cannot judge',
    '',
    "- Which peers a primary syncs: the fake has no remote-secret controller, so the registries come from the lab's",
    '  judgement of its remote secrets (mesh.json of the export); clusterz answers 400 in the fake.',
    "- Which proxies connect to which istiod, and syncz nonces: each primary gets one fake ADS sidecar per cluster whose",
    "  control plane it is (the lab's choice); nonces are random, so only each type's state is compared.",
    '- Envoy traffic, certificates and everything outside istiod.',
    '- Ambient mode (scenario ambient-multi-network and its faults): the fake runs without the ambient controllers',
    '  (PILOT_ENABLE_AMBIENT) and serves no /debug/ambientz, so the lab\'s ztunnel view and ambientz are not compared yet.',
    '',
    '## Agreement',
    '',
    `Cases: ${cases.map((c) => `\`${c.name}\``).join(', ')}.`,
    '',
    '| endpoint | fields compared | equal |',
    '| --- | ---: | ---: |',
    ...GOLDEN_FILES.filter((f) => result.byEndpoint[f]).map((f) => `| ${f} | ${result.byEndpoint[f]!.compared} | ${result.byEndpoint[f]!.equal} |`),
    `| all | ${result.compared} | ${result.equal} |`,
    '',
    '## Known differences',
    '',
  ];
  if (KNOWN_DIFFERENCES.length === 0) lines.push('None.');
  for (const k of KNOWN_DIFFERENCES) {
    const count = result.differences.filter((d) => explains(k, d)).length;
    lines.push(`- **${k.endpoint} ${k.field}**${k.key ? ` (keys matching \`${k.key}\`)` : ''}${k.cases ? ` (cases matching \`${k.cases}\`)` : ''}: ${k.reason} (${count} field${count === 1 ? '' : 's'})`);
  }
  lines.push(
    '',
    '## Verdicts on snapshots from the goldens',
    '',
    "test/conformance/snapshot-from-goldens.test.ts captures each case's lab as `meshdoctor snapshot` does, puts each",
    "primary's goldens in place of what the lab's istiod served (registryz, endpointShardz, networkz, configz, syncz),",
    'and runs every check offline on both snapshots: the same checks must run and give the same errors and warnings.',
    'clusterz is taken out of both (the fake cannot serve it), and no sidecar is captured, so the checks that read',
    'clusterz or Envoy, or that need a live cluster, skip or fall back alike. Where the findings differ, the cause is one of the known differences',
    'above, and the test names the finding it changes (today: discovery-selectors-exclude, where real istiod does not',
    "discover the excluded gateway and network/gateway-view reports it missing on cluster1, while the lab's does).",
    '',
  );
  return lines.join('\n');
}

/**
 * docs/lab-fidelity.md is generated up to this line; from it on it is the real stack's part
 * (realstack/, written by hand), which `npm run conformance:regen` keeps as it is.
 */
export const REAL_STACK_MARKER = '<!-- The real stack (realstack/): written by hand from here on; conformance:regen keeps it. -->';

/** The hand-written real-stack part of a lab-fidelity document (from the marker on), or ''. */
export function realStackPart(doc: string): string {
  const at = doc.indexOf(REAL_STACK_MARKER);
  return at < 0 ? '' : doc.slice(at);
}

/** Compare every case of a golden directory with the lab (no Go needed). */
export async function fidelityOfGoldens(goldenDir: string): Promise<{ cases: ConformanceCase[]; result: FidelityResult; missing: string[] }> {
  const { existsSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { buildExportMesh, exportManifest } = await import('./export.ts');
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  const results: FidelityResult[] = [];
  const missing: string[] = [];
  const cases = conformanceCases();
  for (const c of cases) {
    const caseDir = join(goldenDir, c.name);
    const meta = read(join(caseDir, 'case.json'));
    if (meta === undefined) {
      missing.push(c.name);
      continue;
    }
    const { primaries } = JSON.parse(meta) as { primaries: string[] };
    const mesh = await buildExportMesh({ scenario: c.scenario, faults: c.faults, now: CONFORMANCE_NOW });
    const manifest = exportManifest(mesh);
    const goldens = readCaseGoldens(caseDir, primaries, read);
    for (const primary of primaries) results.push(comparePrimary(mesh, manifest, c.name, primary, goldens.get(primary)!));
  }
  return { cases, result: mergeResults(results), missing };
}
