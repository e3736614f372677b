// Fixture variants for the services checks: a fixture's objects, edited, served from memory, with the
// istiod debug output of the fixture's snapshot (optionally rewritten) behind each cluster.
import type { ClusterReader } from '../../../src/cluster/types.ts';
import { fixtureObjects, memoryReader, openFixture, type ClusterObjects, type MemoryReaderOptions } from '../helpers.ts';

/** Rewrites one debug body: (cluster, endpoint, parsed JSON) => new JSON value. */
export type DebugEdit = (cluster: string, endpoint: string, body: unknown) => unknown;

/** Options of a fixture variant. */
export interface VariantOptions {
  edit?: (objects: Map<string, ClusterObjects>) => void;
  debug?: DebugEdit;
  /** Raw bodies that replace an endpoint's output: `cluster/endpoint` -> body. */
  rawDebug?: Record<string, string>;
  readerOptions?: Record<string, MemoryReaderOptions>;
}

/** Readers over an edited copy of a fixture, with its istiod debug output. */
export async function fixtureVariant(fixture: string, options: VariantOptions = {}): Promise<ClusterReader[]> {
  const objects = await fixtureObjects(fixture);
  options.edit?.(objects);
  const snapshot = new Map((await openFixture(fixture)).clusters.map((r) => [r.name, r]));
  return [...objects.entries()].map(([name, objs]) => {
    const reader = memoryReader(name, objs, options.readerOptions?.[name]);
    const original = snapshot.get(name) ?? snapshot.values().next().value!;
    reader.istiodDebug = async (endpoint: string) => {
      const outputs = await original.istiodDebug(endpoint);
      const raw = options.rawDebug?.[`${name}/${endpoint}`];
      return outputs.map((o) => ({
        ...o,
        body: raw ?? (options.debug ? JSON.stringify(options.debug(name, endpoint, JSON.parse(o.body))) : o.body),
      }));
    };
    return reader;
  });
}
