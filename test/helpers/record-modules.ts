// Preloaded with `node --import` by the start-up tests: records the URL of every module the process
// loads (ES modules and require()d CommonJS alike) and writes them, one per line, to the file named
// by MESHDOCTOR_RECORD_MODULES when the process exits.
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';

const out = process.env.MESHDOCTOR_RECORD_MODULES;
const loaded = new Set<string>();
if (out) {
  registerHooks({
    load(url, context, nextLoad) {
      loaded.add(url);
      return nextLoad(url, context);
    },
  });
  process.on('exit', () => writeFileSync(out, [...loaded].join('\n')));
}
