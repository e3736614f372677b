import type { Check } from './types.ts';

/**
 * Declare a check. An identity helper that keeps the literal types of `meta.messages` for
 * inference; built-in checks and plugins use the same contract.
 */
export function defineCheck<const T extends Check>(check: T): T {
  return check;
}
