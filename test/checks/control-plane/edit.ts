// Helpers of the control-plane check tests: edit remote secrets' kubeconfigs, and serve istiod debug
// bodies from in-memory readers (which have none of their own).
import YAML from 'yaml';
import type { ClusterReader, KubeObject } from '../../../src/cluster/types.ts';
import type { Check, Finding } from '../../../src/engine/types.ts';

/** Decode, edit and re-encode the kubeconfig under `key` of a remote secret. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubeconfig YAML edited freely in tests
export function editKubeconfig(secret: KubeObject, key: string, edit: (doc: Record<string, any>) => void): void {
  const doc = YAML.parse(Buffer.from(secret.data[key], 'base64').toString('utf8'));
  edit(doc);
  secret.data[key] = Buffer.from(YAML.stringify(doc)).toString('base64');
}

/** Rename a data key of a secret. */
export function renameKey(secret: KubeObject, from: string, to: string): void {
  secret.data = { [to]: secret.data[from] };
}

/** A reader that answers istiodDebug(endpoint) with the given bodies, as one istiod pod. */
export function withIstiodDebug(reader: ClusterReader, bodies: Record<string, string>, pod = 'istiod-test-0'): ClusterReader {
  return {
    ...reader,
    istiodDebug: async (endpoint: string) => (bodies[endpoint] === undefined ? [] : [{ pod, namespace: 'istio-system', revision: 'default', body: bodies[endpoint] }]),
  };
}

/** A JWT-shaped token with the given payload (unsigned: meshdoctor never verifies). */
export function jwt(payload: object): string {
  return `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
}

/** `checkId cluster messageId severity` of every finding (the effective severity, as the engine reports it), sorted. */
export function findingRows(check: Check, runs: { findings: Finding[] }[]): string[] {
  return runs
    .flatMap((r) => r.findings.map((f) => `${check.id} ${f.cluster} ${f.messageId} ${f.severity}`))
    .sort();
}
