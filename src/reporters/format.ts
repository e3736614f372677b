// Plain-text pieces shared by the reporters.
import type { Finding, ResourceRef } from '../engine/types.ts';

/** A finding as plain text: what, where, what to do, where to read more. */
export function describeFinding(finding: Finding): string {
  const where = [`[${finding.cluster}]`, finding.resource && formatResource(finding.resource)].filter(Boolean).join(' ');
  const lines = [`${finding.severity} ${where}: ${finding.message}`];
  if (finding.hint) lines.push(`  hint: ${finding.hint}`);
  lines.push(`  see: meshdoctor explain ${finding.checkId}`);
  return lines.join('\n');
}

/** `Kind namespace/name`, or `Kind name` for a cluster-scoped resource. */
export function formatResource(resource: ResourceRef): string {
  return `${resource.kind} ${resource.namespace ? `${resource.namespace}/` : ''}${resource.name}`;
}
