// meshdoctor's public API for plugins: define checks with the same contract as the built-in ones.
export { defineCheck } from './engine/define-check.ts';
export type {
  Check,
  CheckContext,
  CheckMeta,
  CheckOptions,
  CheckResult,
  ClusterCheck,
  ClusterCheckContext,
  ClusterInfo,
  ContextOf,
  Finding,
  FindingInput,
  FindingOf,
  MeshCheck,
  MeshCheckContext,
  MeshInfo,
  MessageMeta,
  Messages,
  Placeholders,
  Report,
  Severity,
} from './engine/types.ts';
export type { ClusterReader, KubeObject, ResourceKindName } from './cluster/types.ts';
