// Text hygiene shared by every reporter: secrets never leave the process, terminal escapes never
// reach files that other tools parse.
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
