// Text hygiene shared by every reporter and every line the CLI prints: secrets never leave the
// process, terminal escapes never reach files that other tools parse, and text from a cluster
// (names, labels, servers, error messages quoting them) never reaches a terminal raw: terminalText
// is the one function everything a human reads goes through.
import type { Report } from '../engine/types.ts';

/** What a redacted secret is replaced with. */
export const REDACTED = '[REDACTED]';

// A PEM private key block (PKCS#1 "RSA", SEC1 "EC", PKCS#8, encrypted); a block cut short (no END
// line) is redacted to the end of the text, since whatever follows the BEGIN line is key material.
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)/g;
// `Authorization: Bearer <token>` as printed by HTTP clients; 8+ characters so prose such as
// "Bearer token missing" stays readable.
const BEARER_TOKEN = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
// A JWT (service account tokens): three base64url segments, the first two JSON objects (`eyJ` = `{"`).
const JWT = /\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * Replace private key material and bearer tokens in `text` with `[REDACTED]`. Defensive: checks
 * should never put secrets in findings, but a message quoting a kubeconfig or a Secret must not
 * leak one into a CI log.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(PEM_PRIVATE_KEY, REDACTED)
    .replace(BEARER_TOKEN, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED);
}

/**
 * A copy of `report` with every string (at any depth, including `data`) passed through
 * redactSecrets. Every reporter renders the redacted copy, so no format can forget it.
 */
export function redactReport(report: Report): Report {
  return mapReportStrings(report, redactSecrets);
}

/** A copy of `report` with `transform` applied to every string at any depth. */
export function mapReportStrings(report: Report, transform: (text: string) => string): Report {
  return mapStrings(report, transform) as Report;
}

function mapStrings(value: unknown, transform: (text: string) => string): unknown {
  if (typeof value === 'string') return transform(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, transform));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, mapStrings(inner, transform)]));
  }
  return value;
}

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks, titles) as emitted by
// chalk, kubectl and istioctl; a lone ESC is left to stripControlChars.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]/g;

/** Remove ANSI escape sequences (colours, cursor movement, OSC hyperlinks). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, '');
}

// C0 and C1 control characters except tab, newline and carriage return, and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** Remove ANSI escapes, then control characters other than \t \n \r. */
export function stripControlChars(text: string): string {
  return stripAnsi(text).replace(CONTROL_CHARS, '');
}

// What must never reach a terminal raw: C0 controls but tab (newline and carriage return included:
// they would forge report lines), DEL, C1 controls (U+009B is CSI on some terminals), the bidi
// marks, embeddings, overrides and isolates that reorder what is shown, and the Unicode line and
// paragraph separators.
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visibleEscape(char: string): string {
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One line of text for a terminal: secrets redacted, and every character in TERMINAL_UNSAFE shown
 * as a visible escape (`\x1b`, `\n`, `\u202e`), so an escape sequence in a Secret cannot repaint the
 * screen, a name with a newline cannot forge a report line, and what is shown is what is there.
 */
export function terminalText(text: string): string {
  return redactSecrets(text).replace(TERMINAL_UNSAFE, visibleEscape);
}

/**
 * terminalText for each line of a text meshdoctor laid out over several lines itself. Secrets are
 * redacted over the whole text first: a private key block spans lines, and redacting line by line
 * would hide its BEGIN line and print its body.
 */
export function terminalLines(text: string): string {
  return redactSecrets(text).split('\n').map(terminalText).join('\n');
}

// What JSON.stringify leaves raw but a terminal would act on (it escapes C0 itself).
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A JSON text with those characters as \uXXXX escapes: the same document, safe to print to a terminal. */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Where a placeholder sits in a hint's command text: outside quotes, or inside '...' or "...". */
export type ShellContext = 'bare' | 'single' | 'double';

// Characters that mean nothing to a POSIX shell, in any quoting context.
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `value` as it must be written at `context` in a shell command so that it stays one literal word
 * (part): as is when made of SHELL_SAFE characters, else POSIX single-quoted ('\'' for a quote).
 * Inside double quotes the value closes them, is single-quoted, and reopens them; inside single
 * quotes only its quotes need escaping. Control characters stay literal here: terminalText shows
 * them escaped, so the hint is still one line.
 */
export function shellQuote(value: string, context: ShellContext = 'bare'): string {
  if (value !== '' && SHELL_SAFE.test(value)) return value;
  const escaped = value.replaceAll("'", "'\\''");
  if (context === 'single') return escaped;
  return context === 'double' ? `"'${escaped}'"` : `'${escaped}'`;
}

/**
 * The quoting context at `offset` of a hint template. Hints mix prose and commands, so a quote
 * opens a quoted span only at the start or after whitespace, `=`, `(` or `[` (an apostrophe in
 * "istiod's" opens nothing), and closes at the next same quote. `{{placeholders}}` before `offset`
 * are skipped: their quoted values never change the context.
 */
export function shellContextAt(template: string, offset: number): ShellContext {
  let open: "'" | '"' | undefined;
  for (let i = 0; i < offset; i++) {
    if (template.startsWith('{{', i)) {
      const end = template.indexOf('}}', i);
      if (end >= 0 && end < offset) {
        i = end + 1;
        continue;
      }
    }
    const char = template[i];
    if (open) {
      if (char === open) open = undefined;
    } else if ((char === "'" || char === '"') && (i === 0 || /[\s=([]/.test(template[i - 1]))) {
      open = char;
    }
  }
  return open === "'" ? 'single' : open === '"' ? 'double' : 'bare';
}
