import { describe, expect, it } from 'vitest';
import { BUILTIN_CHECKS } from '../../src/checks/index.ts';
import sharedRoot from '../../src/checks/certificates/shared-root.ts';
import remoteSecrets from '../../src/checks/control-plane/remote-secrets.ts';
import { contextsByCluster, fillTemplate } from '../../src/engine/run.ts';
import type { ClusterInfo } from '../../src/engine/types.ts';
import { openFixture, runCheck } from './helpers.ts';

// A hint that changes a cluster is pasted into a shell with several contexts configured: without
// --context it acts on whatever the current context is, which during an incident is often the wrong one.
const MUTATING: Record<string, RegExp> = {
  kubectl: /^(delete|create|apply|patch|label|annotate|rollout|edit|scale|replace|set)$/,
  istioctl: /^(install|upgrade|uninstall)$/,
  helm: /^(install|upgrade|uninstall)$/,
};

/** The mutating commands of a hint without a context flag: tool to the end of its command. */
function commandsWithoutContext(hint: string): string[] {
  const missing: string[] = [];
  for (const m of hint.matchAll(/\b(kubectl|istioctl|helm)((?:\s+-n\s+\S+|\s+-\S+)*)\s+([\w-]+)/g)) {
    if (!MUTATING[m[1]].test(m[3])) continue;
    const rest = hint.slice(m.index);
    const end = rest.search(/[;|)]|\. [A-Z]|, then|, or /);
    const command = end < 0 ? rest : rest.slice(0, end);
    if (!/--(kube-)?context[= ]/.test(command)) missing.push(command);
  }
  return missing;
}

describe('hints that change a cluster name its context', () => {
  it('every mutating kubectl, istioctl and helm command of every hint carries --context', () => {
    const missing = BUILTIN_CHECKS.flatMap((check) =>
      Object.entries(check.meta.messages).flatMap(([id, message]) => commandsWithoutContext(message.hint).map((command) => `${check.id}/${id}: ${command}`)),
    );
    expect(missing).toEqual([]);
  });

  it('the detector sees a command without one (so the test above means something)', () => {
    expect(commandsWithoutContext('fix it: kubectl -n istio-system rollout restart deployment/istiod; then wait')).toHaveLength(1);
    expect(commandsWithoutContext('kubectl --context=<{{cluster}} context> -n x delete secret cacerts')).toEqual([]);
    expect(commandsWithoutContext('look: kubectl get pods -n x')).toEqual([]);
  });

  it('the CA replacement hint of a root mismatch carries the context of the cluster to change', async () => {
    const { runs } = await runCheck(sharedRoot, (await openFixture('root-mismatch')).clusters);
    const finding = runs.flatMap((r) => r.findings).find((f) => f.messageId === 'rootMismatch');
    expect(finding).toBeDefined();
    const contexts = [...(finding?.hint ?? '').matchAll(/--context=(\S+)/g)].map((m) => m[1]);
    expect(contexts.length).toBeGreaterThan(0);
    expect(new Set(contexts)).toEqual(new Set([`kind-${finding!.cluster}`]));
  });

  it('a missing remote secret: created from the peer, applied on the cluster that lacks it', async () => {
    const { runs } = await runCheck(remoteSecrets, (await openFixture('cp-no-remote-secret')).clusters);
    const finding = runs.flatMap((r) => r.findings).find((f) => f.messageId === 'noRemoteSecret');
    expect(finding).toBeDefined();
    const peer = finding!.cluster === 'cluster1' ? 'cluster2' : 'cluster1';
    expect(finding!.hint).toContain(`create-remote-secret --context=kind-${peer} `);
    expect(finding!.hint).toContain(`--context=kind-${finding!.cluster}`);
    expect(finding!.hint).not.toMatch(/context>/);
  });
});

describe('fillTemplate with contexts', () => {
  const info = (name: string, context?: string, clusterId?: string): ClusterInfo => ({ name, context, clusterId, role: 'primary', revisions: [], reachable: true, via: 'context' });

  it('maps cluster names and unique cluster ids to contexts; an id two clusters claim maps to none', () => {
    const contexts = contextsByCluster([info('east', 'ctx-east', 'c1'), info('west', 'ctx-west', 'c2'), info('dup', 'ctx-dup', 'c2'), info('nocontext', undefined, 'c3')]);
    expect(Object.fromEntries(contexts)).toEqual({ east: 'ctx-east', west: 'ctx-west', dup: 'ctx-dup', c1: 'ctx-east' });
  });

  it('quotes a hostile context for the shell and leaves an unknown one a placeholder', () => {
    const contexts = new Map([['east', "x'; rm -rf ~; '"]]);
    const hint = 'kubectl --context=<{{cluster}} context> get pods; kubectl --context=<{{peer}} context> get pods';
    expect(fillTemplate(hint, { peer: 'west' }, { shell: true, contexts, cluster: 'east' })).toBe(
      "kubectl --context='x'\\''; rm -rf ~; '\\''' get pods; kubectl --context=<west context> get pods",
    );
  });
});
