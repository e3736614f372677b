// The built-in checks: one explicit list per category (src/checks/<category>/index.ts), each sorted
// by id; a test keeps every list sorted and complete (every check file is listed).
import type { Check } from '../engine/types.ts';
import ambient from './ambient/index.ts';
import certificates from './certificates/index.ts';
import connectivity from './connectivity/index.ts';
import controlPlane from './control-plane/index.ts';
import network from './network/index.ts';
import observability from './observability/index.ts';
import services from './services/index.ts';

/** Every built-in check, sorted by id; each documented per messageId in docs/checks.md, which findings link. */
export const BUILTIN_CHECKS: Check[] = [...ambient, ...certificates, ...connectivity, ...controlPlane, ...network, ...observability, ...services]
  .map((check): Check => ({ ...check, meta: { ...check.meta, documentedIn: 'catalog' } }))
  .sort((a, b) => a.id.localeCompare(b.id));
