// Fault parity (issue 15): for each fault the real stack can express, meshdoctor's verdict on the real
// stack equals its verdict on the simulated lab with the same fault, and real istiod's clusterz equals
// the simulated istiod's for the same model. What differs is listed here with why, and in
// docs/lab-fidelity.md (the real stack).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFault } from '../../src/lab/model/catalog.ts';
import { debugRequest } from '../../src/lab/sim/debug.ts';
import { meshSimOf } from '../../src/lab/sim/mesh.ts';
import type { RealStack } from '../stack.ts';
import { buildAndStart, labMeshdoctor, meshdoctor, verdict, type Report } from './helpers.ts';

/**
 * Findings not compared. The stack has no Envoy and its pods no probe tools: the connectivity checks
 * skip here (noProbeTools). certificates/workload is compared: the sidecars' pilot-agent answers from
 * the lab's simulated Envoy for the same model (realstack/stack.ts). And the stack's
 * API servers are on this machine's loopback, where its istiods run too: remote-secrets reports a
 * loopback server of a secret istiod does not sync (serverLoopback), which `--lab` knows is shared
 * (sharedLoopback) and a real cluster would not have. observability reads the lab's Prometheus of
 * simulated traffic; the stack has neither.
 */
const NOT_COMPARED = /^(connectivity\/\S+|observability\/\S+) |^control-plane\/remote-secrets serverLoopback /;

interface Case {
  /** The lab scenario (default multi-primary). */
  scenario?: string;
  /** The fault; none compares the scenario as it is (the lab then finds nothing, and the stack must not). */
  fault?: string;
  /** Findings meshdoctor reports on the real stack only, and why. */
  onlyReal?: string[];
  /** Findings meshdoctor reports on the lab only. */
  onlyLab?: string[];
  why?: string;
  /** The real pilot-discovery of this cluster refuses to start (its pod is CrashLoopBackOff). */
  crashes?: string;
}

const CASES: Case[] = [
  { fault: 'no-remote-secret' },
  { fault: 'remote-secret-wrong-id' },
  { fault: 'remote-secret-exec-auth' },
  { fault: 'remote-secret-expired-token' },
  { fault: 'remote-secret-unreachable' },
  { fault: 'remote-rbac-missing' },
  { fault: 'cacerts-missing' },
  {
    fault: 'cacerts-incomplete',
    crashes: 'cluster2',
    onlyReal: ['control-plane/istiod-ready istiodPodNotReady cluster2', 'control-plane/istiod-ready istiodUnavailable cluster2'],
    // The lab's istiod signs cluster2's workload certificates anyway; no real istiod ever issued one
    // there, so the sidecars' pilot-agent has none to show and certificates/workload cannot run.
    onlyLab: ['certificates/workload workloadIssuerMismatch cluster2', 'certificates/workload workloadIssuerMismatch cluster2', 'certificates/workload workloadRootNotShared cluster2', 'certificates/workload workloadRootNotShared cluster2'],
    why: 'real istiod refuses to start; the lab\'s keeps running',
  },
  { fault: 'root-mismatch' },
  {
    fault: 'intermediate-expired',
    crashes: 'cluster2',
    // No istiod ever ran in cluster2, so no istio-ca-root-cert was published there (sample and default).
    onlyReal: ['certificates/root-distribution rootConfigMapMissing cluster2', 'certificates/root-distribution rootConfigMapMissing cluster2', 'control-plane/istiod-ready istiodPodNotReady cluster2', 'control-plane/istiod-ready istiodUnavailable cluster2'],
    why: 'real istiod refuses an expired CA certificate and does not start; the lab\'s keeps running',
  },
  { fault: 'network-label-missing' },
  { fault: 'ewgw-missing' },
  { fault: 'ewgw-no-15443' },
  { fault: 'cross-network-gateway-missing' },
  { fault: 'cross-network-gateway-istio-mutual' },
  // Pod status from the model through a kwok Stage of the pod's own (realstack/stack.ts); a
  // crash-looping istiod runs no real istiod.
  { fault: 'istiod-not-ready' },
  { fault: 'ewgw-not-ready' },
  // A remote with no istiod, read by the primary's real istiod; its `istiod` Service has no selector,
  // so the stack applies the model's Endpoints (pointing at the primary's east-west gateway). Every
  // other finding must be equal too, so this one case also compares the scenario without its fault
  // (run alone, `{ scenario: 'primary-remote' }` passed too: neither finds anything; left out for CI time).
  { scenario: 'primary-remote', fault: 'remote-istiod-endpoint-wrong' },
];

const compared = (report: Report) => verdict(report).filter((f) => !NOT_COMPARED.test(f));

const named = CASES.map((c) => ({ ...c, name: `${c.scenario ?? 'multi-primary'}${c.fault ? ` fault ${c.fault}` : ''}` }));

describe.each(named)('$name', (c) => {
  let stack: RealStack;
  let real: Report;
  let lab: Report;
  beforeAll(async () => {
    const scenario = c.scenario ?? 'multi-primary';
    const faults = c.fault ? [c.fault] : [];
    // The lab's run while the stack starts.
    const labRun = labMeshdoctor(scenario, faults);
    stack = await buildAndStart({ scenario, faults: faults.map(parseFault) });
    real = (await meshdoctor(stack)).report;
    lab = (await labRun).report;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('real pilot-discovery starts, or refuses to as listed', () => {
    expect(stack.crashed.map((x) => x.cluster)).toEqual(c.crashes ? [c.crashes] : []);
  });

  it('meshdoctor\'s errors and warnings on the real stack equal those on the lab', () => {
    const r = compared(real);
    const l = compared(lab);
    expect({ onlyReal: r.filter((f) => !l.includes(f)), onlyLab: l.filter((f) => !r.includes(f)) }).toEqual({ onlyReal: c.onlyReal ?? [], onlyLab: c.onlyLab ?? [] });
    if (c.fault) expect(l.length, 'the fault gives the lab a finding').toBeGreaterThan(0);
  });

  it('real istiod\'s clusterz equals the simulated istiod\'s', async () => {
    const sim = meshSimOf(stack.mesh);
    for (const cluster of stack.clusters.filter((x) => x.istiodMonitoring)) {
      const realz = (await (await fetch(`http://127.0.0.1:${cluster.istiodMonitoring}/debug/clusterz`)).json()) as unknown[];
      expect(realz, cluster.name).toEqual(JSON.parse(debugRequest(sim, sim.istiodIn(cluster.name)!, 'clusterz').body));
    }
  });
});
