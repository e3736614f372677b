// npm run docs: regenerate docs/checks.md from the built-in checks.
import { writeFileSync } from 'node:fs';
import { BUILTIN_CHECKS } from '../src/checks/index.ts';
import { renderChecksMarkdown } from '../src/cli/docs.ts';

writeFileSync(new URL('../docs/checks.md', import.meta.url), renderChecksMarkdown(BUILTIN_CHECKS));
