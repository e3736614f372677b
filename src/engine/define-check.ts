import type { ClusterCheck, MeshCheck, Messages } from './types.ts';

/**
 * Declare a check. An identity helper that infers the check's messages from `meta.messages`, so
 * `ctx.report()` accepts only their keys with the data their templates need, and `ctx.cluster` is
 * set for cluster scope. Built-in checks and plugins use the same contract.
 */
export function defineCheck<const M extends Messages>(check: ClusterCheck<M>): ClusterCheck<M>;
export function defineCheck<const M extends Messages>(check: MeshCheck<M>): MeshCheck<M>;
export function defineCheck(check: ClusterCheck | MeshCheck): ClusterCheck | MeshCheck {
  return check;
}
