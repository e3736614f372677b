// `meshdoctor checks` and `meshdoctor explain <id>`: the catalog, straight from each check's meta.
import { CATEGORIES, type Check } from '../engine/types.ts';
import { compareChecks } from '../engine/registry.ts';
import { BUILTIN_CHECKS } from '../checks/index.ts';
import { UsageError } from './errors.ts';
import { didYouMean } from '../util/suggest.ts';
import type { CliIO } from './io.ts';
import { terminalLines, terminalText } from '../reporters/sanitize.ts';
import { hangingIndent, outputWidth, wrap, wrapBlock } from '../reporters/wrap.ts';

// The catalog lists built-in checks only: loading a plugin runs its code, which only the commands
// that run checks do (see --plugin).

/** `meshdoctor checks [-o json]`. */
export async function listChecksCommand(args: { output: 'human' | 'json' }, io: CliIO): Promise<number> {
  const checks = [...BUILTIN_CHECKS].sort(compareChecks);
  if (args.output === 'json') {
    const rows = checks.map((c) => ({ id: c.id, category: c.category, scope: c.scope, description: c.meta.description, messageIds: Object.keys(c.meta.messages), docs: c.meta.docs }));
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const idWidth = Math.max(...checks.map((c) => c.id.length), 2);
  const width = outputWidth({ isTTY: io.stdout.isTTY, columns: io.columns }, io.env);
  // A description continues under itself, or under the id when that leaves it too little room.
  const hang = hangingIndent(2 + idWidth + 2 + 7 + 2, width, '      ');
  for (const category of CATEGORIES) {
    const inCategory = checks.filter((c) => c.category === category);
    if (!inCategory.length) continue;
    io.stdout.write(`${category}\n`);
    for (const check of inCategory) {
      const line = terminalText(`${check.id.padEnd(idWidth)}  ${check.scope.padEnd(7)}  ${check.meta.description}`);
      io.stdout.write(`${wrap(line, width, { first: '  ', rest: hang }).join('\n')}\n`);
    }
  }
  io.stdout.write(`\n${checks.length} checks. Details: meshdoctor explain <check-id>\n`);
  return 0;
}

/** `meshdoctor explain <check-id>`: what it verifies, each messageId with severity and fix. */
export async function explainCommand(args: { checkId: string }, io: CliIO): Promise<number> {
  const checks = BUILTIN_CHECKS;
  const check = checks.find((c) => c.id === args.checkId) ?? checks.find((c) => c.id.endsWith(`/${args.checkId}`));
  if (!check) throw new UsageError(`unknown check "${args.checkId}"${didYouMean(args.checkId, checks.map((c) => c.id))}; list them with \`meshdoctor checks\``);
  // Each line continues under its own indentation (a messageId's text, its fix).
  const width = outputWidth({ isTTY: io.stdout.isTTY, columns: io.columns }, io.env);
  io.stdout.write(wrapBlock(terminalLines(explainText(check)).split('\n'), width, '').join('\n'));
  return 0;
}

/** The explain page of a check (also used to test that every messageId is documented). */
export function explainText(check: Check): string {
  const lines = [
    `${check.id}  (${check.category}, runs once per ${check.scope === 'mesh' ? 'mesh' : 'cluster'})`,
    '',
    check.meta.description,
  ];
  if (check.meta.details) lines.push('', check.meta.details);
  if (check.dependsOn?.length) lines.push('', `Runs after: ${check.dependsOn.join(', ')} (skipped when one of them fails).`);
  lines.push('', 'Findings:');
  for (const [messageId, message] of Object.entries(check.meta.messages)) {
    lines.push('', `  ${messageId} (${message.severity})`, `    ${message.template}`, `    fix: ${message.hint}`);
  }
  lines.push('', `Docs: ${check.meta.docs}`, '');
  return lines.join('\n');
}
