// Detail renderers of the human report, keyed by the `CheckResult.data` key each one renders.
import type { DetailRenderer } from './renderer.ts';
import chain from './chain.ts';
import matrix from './matrix.ts';
import topology from './topology.ts';
import traffic from './traffic.ts';
import versions from './versions.ts';

export const BUILTIN_DETAIL_RENDERERS: Readonly<Record<string, DetailRenderer>> = { chain, matrix, topology, traffic, versions };
