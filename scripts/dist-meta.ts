// Where `npm run build` leaves esbuild's metafile of dist/ (which sources went into which chunk), for the
// test that asserts what each command of the built package loads. Outside dist/: it is not shipped.
import { fileURLToPath } from 'node:url';

export const METAFILE = fileURLToPath(new URL('../node_modules/.cache/meshdoctor/dist-meta.json', import.meta.url));

/** The part of esbuild's metafile read here: each output file (relative to the repository) and its inputs. */
export interface DistMeta {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}
