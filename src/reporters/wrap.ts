// Output that fits the terminal: the one place that decides how wide a line may be and breaks text
// to that width. ANSI colour codes take no room; a word is only cut when it alone is wider than the
// line (a long hostname or URL), so what is copied from the screen is what was printed.

/** Narrower than this is read as this: below it no layout is readable and indentation alone would not fit. */
export const MIN_WIDTH = 20;

/** A TTY that reports no size (docker run -t, kubectl exec -t) is taken as this wide. */
export const DEFAULT_TTY_WIDTH = 80;

/**
 * How wide a line of output may be, or undefined for no limit: a terminal's columns (80 if it
 * reports none and $COLUMNS is not set), else $COLUMNS when set (the user asked for it), else no
 * limit (piped into a file, grep or a CI log, a line stays one record).
 */
export function outputWidth(stream: { isTTY?: boolean; columns?: number }, env: Record<string, string | undefined>): number | undefined {
  const fromEnv = parseColumns(env.COLUMNS);
  if (stream.isTTY) {
    const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : (fromEnv ?? DEFAULT_TTY_WIDTH);
    return Math.max(MIN_WIDTH, columns);
  }
  return fromEnv === undefined ? undefined : Math.max(MIN_WIDTH, fromEnv);
}

function parseColumns(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const columns = Number(value);
  return columns > 0 ? columns : undefined;
}

// SGR (colour) sequences, which wrapping carries over line breaks, and the other CSI/OSC sequences,
// which take no room either.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/y;
// eslint-disable-next-line no-control-regex
const SGR = /^\u001b\[([0-9;]*)m$/;
const RESET = '\u001b[0m';

/** SGR parameters by what they set, with the parameter that unsets it (as chalk pairs them). */
function attribute(code: number): { key: string; off: boolean } | undefined {
  if ((code >= 30 && code <= 38) || (code >= 90 && code <= 97)) return { key: 'fg', off: false };
  if (code === 39) return { key: 'fg', off: true };
  if ((code >= 40 && code <= 48) || (code >= 100 && code <= 107)) return { key: 'bg', off: false };
  if (code === 49) return { key: 'bg', off: true };
  if (code === 1 || code === 2) return { key: `intensity${code}`, off: false };
  if (code === 22) return { key: 'intensity', off: true };
  if (code >= 3 && code <= 9) return { key: `attr${code}`, off: false };
  if (code >= 23 && code <= 29) return { key: `attr${code - 20}`, off: true };
  return undefined;
}

/** The colour attributes open after the SGR sequences seen so far. */
class ColourState {
  private readonly open = new Map<string, string>();

  apply(escape: string): void {
    const match = SGR.exec(escape);
    if (!match) return;
    const params = match[1] === '' ? [0] : match[1].split(';').map(Number);
    // 38;5;n and 38;2;r;g;b carry their colour in the parameters that follow: keep the sequence whole.
    if (params[0] === 38 || params[0] === 48) {
      this.open.set(params[0] === 38 ? 'fg' : 'bg', escape);
      return;
    }
    for (const code of params) {
      if (code === 0) {
        this.open.clear();
        continue;
      }
      const attr = attribute(code);
      if (!attr) continue;
      if (!attr.off) this.open.set(attr.key, `\u001b[${code}m`);
      else if (attr.key === 'intensity') {
        this.open.delete('intensity1');
        this.open.delete('intensity2');
      } else this.open.delete(attr.key);
    }
  }

  active(): boolean {
    return this.open.size > 0;
  }

  replay(): string {
    return [...this.open.values()].join('');
  }
}

// Two columns: East Asian wide and fullwidth characters, emoji. Zero: combining marks, joiners, variation selectors.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const ZERO = /\p{M}|\u200d|[\u200b\u200c\u2060]/u;

function charWidth(char: string): number {
  if (ZERO.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Columns `text` takes on a terminal: escape sequences take none, wide characters two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const token of tokens(text)) if (!token.escape) width += token.width;
  return width;
}

interface Token {
  text: string;
  width: number;
  escape: boolean;
  space: boolean;
}

/** `text` as escape sequences and single characters (code points). */
function* tokens(text: string): Generator<Token> {
  let i = 0;
  while (i < text.length) {
    ESCAPE.lastIndex = i;
    const escape = text.charCodeAt(i) === 0x1b ? ESCAPE.exec(text) : null;
    if (escape) {
      yield { text: escape[0], width: 0, escape: true, space: false };
      i += escape[0].length;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    yield { text: char, width: charWidth(char), escape: false, space: char === ' ' || char === '\t' };
    i += char.length;
  }
}

/** What wrap() puts before the text: `first` on the first line, `rest` on every following line. */
export interface WrapIndent {
  first?: string;
  rest?: string;
}

/**
 * `text` (one line, may carry colour) broken into lines of at most `width` columns, each starting
 * with its indent. Breaks fall between words; the spaces at a break are dropped. A word wider than a
 * whole line is cut. Colour open at a break is closed at the end of the line and reopened after the
 * next indent, so the indent is never coloured and every line stands alone. Without a width: one line.
 */
export function wrap(text: string, width: number | undefined, indent: WrapIndent = {}): string[] {
  const first = indent.first ?? '';
  const rest = indent.rest ?? '';
  if (width === undefined) return [first + text];
  const words = splitWords(text);
  const lines: string[] = [];
  // Colour in effect at the current point, replayed at the start of a new line.
  const sgr = new ColourState();
  let line = first;
  let lineWidth = displayWidth(first);
  let lineHasText = false;
  let pendingSpace = '';
  let pendingSpaceWidth = 0;
  const breakLine = () => {
    lines.push(sgr.active() ? line + RESET : line);
    line = rest + sgr.replay();
    lineWidth = displayWidth(rest);
    lineHasText = false;
    pendingSpace = '';
    pendingSpaceWidth = 0;
  };
  for (const word of words) {
    if (word.space) {
      if (lineHasText) {
        pendingSpace += word.text;
        pendingSpaceWidth += word.width;
      } else {
        // Leading spaces of the text are kept; those after a break are not.
        if (lines.length === 0) {
          line += word.text;
          lineWidth += word.width;
        }
      }
      continue;
    }
    if (lineHasText && lineWidth + pendingSpaceWidth + word.width > width) breakLine();
    else if (lineHasText) {
      line += pendingSpace;
      lineWidth += pendingSpaceWidth;
    }
    pendingSpace = '';
    pendingSpaceWidth = 0;
    // A word wider than a whole line is cut, filling each line; any other word is never cut.
    const cut = lineWidth + word.width > width;
    for (const t of word.tokens) {
      if (t.escape) {
        sgr.apply(t.text);
      } else {
        if (cut && lineHasText && lineWidth + t.width > width) breakLine();
        lineHasText = true;
      }
      line += t.text;
      lineWidth += t.width;
    }
  }
  lines.push(line);
  return lines;
}

interface Word {
  text: string;
  width: number;
  space: boolean;
  tokens: Token[];
}

/** Runs of spaces and runs of non-spaces (words). */
function splitWords(text: string): Word[] {
  const words: Word[] = [];
  let current: Word | undefined;
  for (const token of tokens(text)) {
    // An escape sequence belongs to the word it sits in or starts the next one, never to the
    // spaces a break drops.
    const space = token.escape ? false : token.space;
    if (!current || current.space !== space) {
      current = { text: '', width: 0, space, tokens: [] };
      words.push(current);
    }
    current.text += token.text;
    current.width += token.width;
    current.tokens.push(token);
  }
  return words;
}

/**
 * Each line of `lines` wrapped to `width`, continuation lines indented under the line's own text
 * (its leading spaces plus `hang`): for blocks laid out by someone else (detail renderers).
 */
export function wrapBlock(lines: readonly string[], width: number | undefined, hang = '  '): string[] {
  if (width === undefined) return [...lines];
  return lines.flatMap((line) => {
    if (displayWidth(line) <= width) return [line];
    const lead = /^ */.exec(line)![0];
    return wrap(line.slice(lead.length), width, { first: lead, rest: lead + hang });
  });
}

/**
 * The indent that puts continuation lines under text starting at column `column`, or `fallback`
 * when that would leave fewer than `minRoom` columns for the text.
 */
export function hangingIndent(column: number, width: number | undefined, fallback: string, minRoom = 30): string {
  if (width !== undefined && width - column < minRoom) return fallback;
  return ' '.repeat(column);
}
