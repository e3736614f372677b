// Plain-text pieces shared by the reporters.
import type { Finding, ResourceRef } from '../engine/types.ts';

/** A finding as plain text: what, where, what to do, where to read more. */
export function describeFinding(finding: Finding): string {
  const where = [`[${finding.cluster}]`, resourcePrefix(finding)].filter(Boolean).join(' ');
  const lines = [`${finding.severity} ${where}: ${finding.message}`];
  if (finding.hint) lines.push(`  hint: ${finding.hint}`);
  if (finding.docsUrl) lines.push(`  docs: ${finding.docsUrl}`);
  lines.push(`  see: meshdoctor explain ${finding.checkId}`);
  return lines.join('\n');
}

/** `Kind namespace/name`, or `Kind name` for a cluster-scoped resource. */
export function formatResource(resource: ResourceRef): string {
  return `${resource.kind} ${resource.namespace ? `${resource.namespace}/` : ''}${resource.name}`;
}

/**
 * The resource a finding's line starts with, unless its message already names that object
 * ("Gateway istio-system/x: Gateway istio-system/x serves ..." says it twice): a finding names its
 * object once. A namespaced object counts as named by `namespace/name`, a cluster-scoped one by its
 * kind and name ("namespace sample").
 */
export function resourcePrefix(finding: Pick<Finding, 'resource' | 'message'>): string | undefined {
  const resource = finding.resource;
  if (!resource) return undefined;
  const named = resource.namespace
    ? finding.message.includes(`${resource.namespace}/${resource.name}`)
    : finding.message.toLowerCase().includes(`${resource.kind} ${resource.name}`.toLowerCase());
  return named ? undefined : formatResource(resource);
}
