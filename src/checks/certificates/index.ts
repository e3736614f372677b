// certificates checks, sorted by id.
import sharedRoot from './shared-root.ts';

export default [sharedRoot];
