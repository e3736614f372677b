// The contract of a detail renderer: how the human report draws one key of `CheckResult.data`.
import type { ChalkInstance } from 'chalk';
import type { CheckResult } from '../../engine/types.ts';

/** What renderDetails gives a detail renderer. */
export interface DetailContext {
  chalk: ChalkInstance;
  result: CheckResult;
  /** Widest a line may be, the indentation already taken off; undefined: no limit (see wrap.ts). */
  width?: number;
}

/**
 * Renders one key of `CheckResult.data` (e.g. `matrix`, `chain`) as lines shown under the result,
 * before indentation. Returns [] when it has nothing to show.
 */
export type DetailRenderer = (value: unknown, context: DetailContext) => string[];
