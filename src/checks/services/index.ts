// services checks, sorted by id.
import type { Check } from '../../engine/types.ts';

export default [] as Check[];
