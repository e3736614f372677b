// The lab's `sh -c`: a small POSIX shell interpreter for the scripts meshdoctor and its tests run in
// pods. It does what dash does for the parts it knows: lists (; & && || newlines, pipelines whose
// left side's output is dropped since no lab command reads stdin), `{ ...; }` groups, quoting
// ('...', "...", backslash), parameter expansion ($x, ${x}, ${x%word}, ${x#word}, $?) with field
// splitting of unquoted results, command substitution $(...) (a subshell; trailing newlines
// removed), variable assignments, redirections (N>&M, N>FILE, N>>FILE, N<FILE; files are /dev/null:
// the lab has no file system), and the builtins printf, echo, exit, exec (redirections of the
// shell itself, or a command), wait, true, false, :, command -v / which / type.
// A background job (`&`) runs to its end at once, in a subshell: its output lands where a real
// shell's would, and scripts that wait for their jobs before printing what they collected
// (the probe batch of src/mesh/probes/batch.ts) print the same bytes. Unknown syntax exits 2
// with a message, as sh does.
import type { ExecResult } from '../../cluster/types.ts';

/** Runs a command that is not a builtin; undefined when it does not exist (sh: not found, 127). */
export type ExternalCommand = (argv: string[]) => Promise<ExecResult | undefined>;

/** What a container's shell can find: external commands, and which names `command -v` sees. */
export interface ShellHost {
  run: ExternalCommand;
  /** Whether `name` is an executable on PATH. */
  has: (name: string) => boolean;
  /** The directory `command -v` names (default /usr/bin). */
  bin?: string;
}

type Word = Part[];
type Part = { text: string; quoted: boolean } | { param: string; op?: '%' | '#'; arg?: Word; quoted: boolean } | { subst: List; quoted: boolean };
interface Redirect {
  fd: number;
  /** `>&` / `<&`: duplicate fd `to`; else a file (always /dev/null here). */
  dup?: number;
  target?: Word;
}
interface Simple {
  type: 'simple';
  assigns: { name: string; value: Word }[];
  words: Word[];
  redirects: Redirect[];
}
interface Group {
  type: 'group';
  body: List;
  redirects: Redirect[];
}
interface FunctionDef {
  type: 'function';
  name: string;
  body: Command;
}
type Command = Simple | Group | FunctionDef;
/** Commands joined by `|`. */
type Pipeline = Command[];
interface AndOr {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
  background: boolean;
}
type List = AndOr[];

class SyntaxError extends Error {}

/** Parse a script; throws SyntaxError. */
function parse(script: string): List {
  let i = 0;
  const peek = (s: string) => script.startsWith(s, i);
  const skipBlanks = () => {
    while (i < script.length && (script[i] === ' ' || script[i] === '\t' || (script[i] === '\\' && script[i + 1] === '\n'))) i += script[i] === '\\' ? 2 : 1;
    if (script[i] === '#') while (i < script.length && script[i] !== '\n') i++;
  };
  const isMeta = (ch: string | undefined) => ch === undefined || ' \t\n;&|(){}<>'.includes(ch);
  // Words stop at operators; `{` and `}` only matter as whole words (checked by the caller).
  const wordEnd = (ch: string | undefined) => ch === undefined || ' \t\n;&|()<>'.includes(ch);

  function parseParam(quoted: boolean): Part {
    // at '$'
    i++;
    if (script[i] === '(') {
      i++;
      const body = parseList(')');
      if (script[i] !== ')') throw new SyntaxError('missing )');
      i++;
      return { subst: body, quoted };
    }
    if (script[i] === '{') {
      i++;
      const m = /^([A-Za-z_][A-Za-z0-9_]*|[?!#$0-9@*])/.exec(script.slice(i));
      if (!m) throw new SyntaxError('bad substitution');
      i += m[1].length;
      let op: '%' | '#' | undefined;
      let arg: Word | undefined;
      if (script[i] === '%' || script[i] === '#') {
        op = script[i] as '%' | '#';
        i++;
        arg = parseWord((ch) => ch === '}' || ch === undefined, true);
      }
      if (script[i] !== '}') throw new SyntaxError('bad substitution');
      i++;
      return { param: m[1], ...(op ? { op, arg } : {}), quoted };
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[?!#$0-9@*])/.exec(script.slice(i));
    if (!m) return { text: '$', quoted };
    i += m[1].length;
    return { param: m[1], quoted };
  }

  function parseWord(stop: (ch: string | undefined) => boolean, inBraces = false): Word {
    const parts: Word = [];
    const text = (t: string, quoted: boolean) => {
      const last = parts[parts.length - 1];
      if (last && 'text' in last && last.quoted === quoted) last.text += t;
      else parts.push({ text: t, quoted });
    };
    while (i < script.length && !stop(script[i])) {
      const ch = script[i];
      if (ch === "'") {
        const end = script.indexOf("'", i + 1);
        if (end < 0) throw new SyntaxError('unterminated quoted string');
        text(script.slice(i + 1, end), true);
        i = end + 1;
      } else if (ch === '"') {
        i++;
        text('', true);
        while (i < script.length && script[i] !== '"') {
          if (script[i] === '\\' && '$`"\\\n'.includes(script[i + 1] ?? '')) {
            if (script[i + 1] !== '\n') text(script[i + 1], true);
            i += 2;
          } else if (script[i] === '$') parts.push(parseParam(true));
          else text(script[i++], true);
        }
        if (script[i] !== '"') throw new SyntaxError('unterminated quoted string');
        i++;
      } else if (ch === '\\') {
        if (script[i + 1] !== '\n') text(script[i + 1] ?? '', true);
        i += 2;
      } else if (ch === '$') {
        parts.push(parseParam(inBraces));
      } else if (ch === '`') {
        throw new SyntaxError('backquotes are not supported by the lab shell');
      } else {
        text(ch, inBraces);
        i++;
      }
    }
    return parts;
  }

  function parseRedirect(): Redirect | undefined {
    const m = /^(\d?)(>>|>&|<&|>|<)/.exec(script.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    const fd = m[1] ? Number(m[1]) : m[2].startsWith('<') ? 0 : 1;
    skipBlanks();
    if (m[2] === '>&' || m[2] === '<&') {
      const n = /^\d+/.exec(script.slice(i));
      if (!n) throw new SyntaxError('bad fd number');
      i += n[0].length;
      return { fd, dup: Number(n[0]) };
    }
    const target = parseWord(wordEnd);
    if (!target.length) throw new SyntaxError('redirection without a target');
    return { fd, target };
  }

  function parseCommand(): Command | undefined {
    skipBlanks();
    const fn = /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*\([ \t]*\)/.exec(script.slice(i));
    if (fn) {
      i += fn[0].length;
      skipBlanks();
      while (script[i] === '\n') i++;
      const body = parseCommand();
      if (!body || body.type !== 'group') throw new SyntaxError(`function ${fn[1]}: expected { ...; }`);
      return { type: 'function', name: fn[1], body };
    }
    if (script[i] === '{' && isMeta(script[i + 1])) {
      i++;
      const body = parseList('}');
      if (script[i] !== '}') throw new SyntaxError('missing }');
      i++;
      const redirects: Redirect[] = [];
      for (;;) {
        skipBlanks();
        const r = parseRedirect();
        if (!r) break;
        redirects.push(r);
      }
      return { type: 'group', body, redirects };
    }
    const cmd: Simple = { type: 'simple', assigns: [], words: [], redirects: [] };
    for (;;) {
      skipBlanks();
      if (wordEnd(script[i]) && !/^\d?[<>]/.test(script.slice(i))) break;
      const r = parseRedirect();
      if (r) {
        cmd.redirects.push(r);
        continue;
      }
      // `}` closes a group only where a command could start.
      if (script[i] === '}' && isMeta(script[i + 1]) && cmd.words.length === 0 && cmd.assigns.length === 0) break;
      const assign = cmd.words.length === 0 ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(script.slice(i)) : null;
      if (assign) {
        i += assign[0].length;
        cmd.assigns.push({ name: assign[1], value: parseWord(wordEnd) });
        continue;
      }
      cmd.words.push(parseWord(wordEnd));
    }
    return cmd.words.length || cmd.assigns.length || cmd.redirects.length ? cmd : undefined;
  }

  function parsePipeline(): Pipeline | undefined {
    const first = parseCommand();
    if (!first) return undefined;
    const pipeline = [first];
    for (;;) {
      skipBlanks();
      if (script[i] !== '|' || script[i + 1] === '|') return pipeline;
      i++;
      skipBlanks();
      while (script[i] === '\n') i++;
      const next = parseCommand();
      if (!next) throw new SyntaxError('missing command after |');
      pipeline.push(next);
    }
  }

  function parseList(close?: ')' | '}'): List {
    const list: List = [];
    for (;;) {
      skipBlanks();
      while (script[i] === '\n' || (script[i] === ';' && !peek(';;'))) {
        i++;
        skipBlanks();
      }
      if (i >= script.length || (close && script[i] === close)) return list;
      const first = parsePipeline();
      if (!first) throw new SyntaxError(`unexpected "${script[i]}"`);
      const item: AndOr = { first, rest: [], background: false };
      for (;;) {
        skipBlanks();
        if (!peek('&&') && !peek('||')) break;
        const op = script.slice(i, i + 2) as '&&' | '||';
        i += 2;
        skipBlanks();
        while (script[i] === '\n') i++;
        const pipeline = parsePipeline();
        if (!pipeline) throw new SyntaxError(`missing command after ${op}`);
        item.rest.push({ op, pipeline });
      }
      skipBlanks();
      if (script[i] === '&') {
        item.background = true;
        i++;
      } else if (script[i] === ';' || script[i] === '\n') {
        i++;
      } else if (i < script.length && !(close && script[i] === close)) {
        throw new SyntaxError(`unexpected "${script[i]}"`);
      }
      list.push(item);
    }
  }

  const list = parseList();
  if (i < script.length) throw new SyntaxError(`unexpected "${script[i]}"`);
  return list;
}

/** Where a file descriptor writes (shared by the contexts that inherit it). */
interface Sink {
  text: string;
}
/** /dev/null, or a closed descriptor. */
const NULL_SINK = (): Sink => ({ text: '' });

interface Ctx {
  vars: Map<string, string>;
  fds: Map<number, Sink>;
  status: number;
  /** Status of the last command substitution expanded here (what `x=$(...)` leaves in $?). */
  substStatus?: number;
  /** Positional parameters ($1 ...), shared by the commands of one function call (shift changes them). */
  args: { list: string[] };
  funcs: Map<string, Command>;
}

/** `exit` unwinding to the end of its (sub)shell. */
class Exit {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

const subshell = (ctx: Ctx): Ctx => ({ vars: new Map(ctx.vars), fds: new Map(ctx.fds), status: ctx.status, args: { list: [...ctx.args.list] }, funcs: new Map(ctx.funcs) });

/** Run `script` as `sh -c script` would: its stdout, stderr and exit status. */
export async function runShell(script: string, host: ShellHost): Promise<ExecResult> {
  let list: List;
  try {
    list = parse(script);
  } catch (err) {
    if (err instanceof SyntaxError) return { exitCode: 2, stdout: '', stderr: `sh: 1: Syntax error: ${err.message}\n` };
    throw err;
  }
  const out: Sink = { text: '' };
  const err: Sink = { text: '' };
  const ctx: Ctx = { vars: new Map(), fds: new Map([[0, NULL_SINK()], [1, out], [2, err]]), status: 0, args: { list: [] }, funcs: new Map() };
  const code = await inSubshell(ctx, (c) => runList(list, c, host));
  return { exitCode: code, stdout: out.text, stderr: err.text };
}

/** Run `body` in `ctx` up to its end or its `exit`; the status it ends with. */
async function inSubshell(ctx: Ctx, body: (ctx: Ctx) => Promise<void>): Promise<number> {
  try {
    await body(ctx);
    return ctx.status;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
}

async function runList(list: List, ctx: Ctx, host: ShellHost): Promise<void> {
  for (const item of list) {
    if (item.background) {
      // A job of its own (a subshell); its status is not $? (that of starting it is 0).
      await inSubshell(subshell(ctx), (c) => runAndOr(item, c, host));
      ctx.status = 0;
    } else {
      await runAndOr(item, ctx, host);
    }
  }
}

async function runAndOr(item: AndOr, ctx: Ctx, host: ShellHost): Promise<void> {
  await runPipeline(item.first, ctx, host);
  for (const { op, pipeline } of item.rest) {
    if ((op === '&&') === (ctx.status === 0)) await runPipeline(pipeline, ctx, host);
  }
}

async function runPipeline(pipeline: Pipeline, ctx: Ctx, host: ShellHost): Promise<void> {
  if (pipeline.length === 1) return runCommand(pipeline[0], ctx, host);
  // Each part a subshell; no lab command reads stdin, so what a left side prints is dropped.
  for (const [n, cmd] of pipeline.entries()) {
    const c = subshell(ctx);
    if (n < pipeline.length - 1) c.fds.set(1, NULL_SINK());
    ctx.status = await inSubshell(c, (s) => runCommand(cmd, s, host));
  }
}

/** Apply redirections to a copy of fds (or to `fds` itself for `exec`). */
async function redirect(redirects: Redirect[], ctx: Ctx, fds: Map<number, Sink>, host: ShellHost): Promise<string | undefined> {
  for (const r of redirects) {
    if (r.dup !== undefined) {
      const to = fds.get(r.dup);
      if (!to) return `${r.dup}: Bad file descriptor`;
      fds.set(r.fd, to);
    } else {
      const [target] = await expandWords([r.target!], ctx, host);
      // No file system in the lab: a file is written nowhere (like /dev/null), read as empty.
      void target;
      fds.set(r.fd, NULL_SINK());
    }
  }
  return undefined;
}

async function runCommand(cmd: Command, ctx: Ctx, host: ShellHost): Promise<void> {
  if (cmd.type === 'function') {
    ctx.funcs.set(cmd.name, cmd.body);
    ctx.status = 0;
    return;
  }
  if (cmd.type === 'group') {
    // The group's own redirections last for it alone; an `exec` inside changes the shell's fds for good.
    const saved = cmd.redirects.map((r) => [r.fd, ctx.fds.get(r.fd)] as const);
    const bad = await redirect(cmd.redirects, ctx, ctx.fds, host);
    try {
      if (bad) return fail(ctx, bad);
      await runList(cmd.body, ctx, host);
    } finally {
      for (const [fd, sink] of saved.reverse()) {
        if (sink) ctx.fds.set(fd, sink);
        else ctx.fds.delete(fd);
      }
    }
    return;
  }
  const argv = await expandWords(cmd.words, ctx, host);
  const values: [string, string][] = [];
  ctx.substStatus = undefined;
  for (const a of cmd.assigns) values.push([a.name, (await expandWord(a.value, ctx, host, false))[0] ?? '']);
  const substStatus = ctx.substStatus;
  if (argv.length === 0) {
    // Assignments alone: $? is the status of the last command substitution in them, else 0.
    const bad = await redirect(cmd.redirects, ctx, new Map(ctx.fds), host);
    if (bad) return fail(ctx, bad);
    for (const [k, v] of values) ctx.vars.set(k, v);
    ctx.status = substStatus ?? 0;
    return;
  }
  if (argv[0] === 'exec') {
    if (argv.length === 1) {
      const bad = await redirect(cmd.redirects, ctx, ctx.fds, host);
      if (bad) return fail(ctx, bad);
      ctx.status = 0;
      return;
    }
    argv.shift();
    const c = subshell(ctx);
    const bad = await redirect(cmd.redirects, c, c.fds, host);
    if (bad) return fail(ctx, bad);
    await runSimple(argv, c, host);
    throw new Exit(c.status);
  }
  const c: Ctx = { ...ctx, fds: new Map(ctx.fds), substStatus: undefined };
  const bad = await redirect(cmd.redirects, ctx, c.fds, host);
  if (bad) return fail(ctx, bad);
  await runSimple(argv, c, host);
  ctx.status = c.status;
}

function fail(ctx: Ctx, message: string): void {
  write(ctx, 2, `sh: 1: ${message}\n`);
  ctx.status = 2;
}

function write(ctx: Ctx, fd: number, text: string): void {
  const sink = ctx.fds.get(fd);
  if (sink) sink.text += text;
}

async function runSimple(argv: string[], ctx: Ctx, host: ShellHost): Promise<void> {
  const [name, ...args] = argv;
  const fn = ctx.funcs.get(name);
  if (fn) {
    // A function runs in this shell (its variables are the shell's) with its own $1 ...
    const saved = ctx.args;
    ctx.args = { list: args };
    try {
      await runCommand(fn, ctx, host);
    } finally {
      ctx.args = saved;
    }
    return;
  }
  switch (name) {
    case 'shift': {
      const n = args[0] === undefined ? 1 : Number(args[0]);
      if (!(n >= 0 && n <= ctx.args.list.length)) {
        write(ctx, 2, `sh: 1: shift: can't shift that many\n`);
        throw new Exit(2);
      }
      ctx.args.list = ctx.args.list.slice(n);
      ctx.status = 0;
      return;
    }
    case 'exit':
      throw new Exit(args[0] === undefined ? ctx.status : Number(args[0]) & 255);
    case 'wait':
    case ':':
    case 'true':
      ctx.status = 0;
      return;
    case 'false':
      ctx.status = 1;
      return;
    case 'echo':
      write(ctx, 1, `${args.join(' ')}\n`);
      ctx.status = 0;
      return;
    case 'printf': {
      if (args.length === 0) {
        write(ctx, 2, 'printf: usage: printf format [arg ...]\n');
        ctx.status = 2;
        return;
      }
      const r = printf(args[0], args.slice(1));
      write(ctx, 1, r.text);
      if (r.error) write(ctx, 2, `sh: 1: printf: ${r.error}\n`);
      ctx.status = r.error ? 1 : 0;
      return;
    }
    case 'command':
    case 'which':
    case 'type': {
      const names = args.filter((a) => !a.startsWith('-'));
      const found = names.filter((n) => host.has(n) || n === 'sh');
      const bin = host.bin ?? '/usr/bin';
      write(ctx, 1, found.map((n) => (name === 'type' ? `${n} is ${bin}/${n}\n` : `${bin}/${n}\n`)).join(''));
      ctx.status = found.length === names.length && names.length > 0 ? 0 : 1;
      return;
    }
  }
  const result = await host.run(argv);
  if (!result) {
    write(ctx, 2, `sh: 1: ${name}: not found\n`);
    ctx.status = 127;
    return;
  }
  write(ctx, 1, result.stdout);
  write(ctx, 2, result.stderr);
  ctx.status = result.exitCode;
}

/** printf as dash's builtin: escapes in the format, %s %d %i %u %x %c %%; the format repeats for left-over arguments. */
function printf(format: string, args: string[]): { text: string; error?: string } {
  let text = '';
  let error: string | undefined;
  let n = 0;
  do {
    for (let i = 0; i < format.length; i++) {
      const ch = format[i];
      if (ch === '\\') {
        const next = format[++i];
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };
        if (next !== undefined && next in escapes) text += escapes[next];
        else if (next !== undefined && /[0-7]/.test(next)) {
          const m = /^[0-7]{1,3}/.exec(format.slice(i))![0];
          text += String.fromCharCode(parseInt(m, 8));
          i += m.length - 1;
        } else text += `\\${next ?? ''}`;
      } else if (ch === '%') {
        const conv = format[++i];
        if (conv === '%') {
          text += '%';
          continue;
        }
        const arg = args[n++];
        if (conv === 's') text += arg ?? '';
        else if (conv === 'c') text += (arg ?? '').slice(0, 1);
        else if (conv === 'd' || conv === 'i' || conv === 'u' || conv === 'x') {
          const v = arg === undefined || arg === '' ? 0 : Number(arg);
          if (!Number.isInteger(v)) {
            error = `${arg}: expected numeric value`;
            text += '0';
          } else text += conv === 'x' ? v.toString(16) : String(v);
        } else {
          text += `%${conv ?? ''}`;
        }
      } else text += ch;
    }
  } while (n > 0 && n < args.length);
  return { text, ...(error ? { error } : {}) };
}

async function expandWords(words: Word[], ctx: Ctx, host: ShellHost): Promise<string[]> {
  const out: string[] = [];
  for (const w of words) out.push(...(await expandWord(w, ctx, host, true)));
  return out;
}

/** Expand a word; with `split`, unquoted expansion results are split into fields at blanks and newlines. */
async function expandWord(word: Word, ctx: Ctx, host: ShellHost, split: boolean): Promise<string[]> {
  // Fields built so far; `open` says whether the last one can still grow (no split just happened).
  const fields: string[] = [];
  let current: string | undefined;
  const add = (text: string, quoted: boolean) => {
    if (!split || quoted) {
      current = (current ?? '') + text;
      return;
    }
    const pieces = text.split(/[ \t\n]+/);
    for (const [k, piece] of pieces.entries()) {
      if (k > 0) {
        if (current !== undefined) fields.push(current);
        current = undefined;
      }
      if (piece) current = (current ?? '') + piece;
    }
  };
  for (const part of word) {
    if ('param' in part && part.param === '@' && !part.op) {
      // "$@": one field per positional parameter, joined to the text around it at the ends.
      const params = ctx.args.list;
      if (!part.quoted) {
        for (const p of params) add(` ${p} `, false);
        continue;
      }
      for (const [k, p] of params.entries()) {
        if (k > 0) {
          fields.push(current ?? '');
          current = undefined;
        }
        current = (current ?? '') + p;
      }
      continue;
    }
    if ('text' in part) {
      // Literal text is never split; an empty quoted string is still a field.
      current = (current ?? '') + part.text;
    } else if ('param' in part) {
      let value = param(part.param, ctx);
      if (part.op) {
        const pattern = (await expandWord(part.arg ?? [], ctx, host, false))[0] ?? '';
        if (part.op === '%' && value.endsWith(pattern)) value = value.slice(0, value.length - pattern.length);
        if (part.op === '#' && value.startsWith(pattern)) value = value.slice(pattern.length);
      }
      add(value, part.quoted);
    } else {
      const c = subshell(ctx);
      const sink: Sink = { text: '' };
      c.fds.set(1, sink);
      ctx.substStatus = await inSubshell(c, (s) => runList(part.subst, s, host));
      // dash drops NUL bytes from a substitution; trailing newlines go.
      add(sink.text.replace(/\0/g, '').replace(/\n+$/, ''), part.quoted);
    }
  }
  if (current !== undefined) fields.push(current);
  return split ? fields : [fields.join(' ')];
}

function param(name: string, ctx: Ctx): string {
  if (name === '?') return String(ctx.status);
  if (name === '$') return '1';
  if (name === '#') return String(ctx.args.list.length);
  if (name === '@' || name === '*') return ctx.args.list.join(' ');
  if (/^[1-9]$/.test(name)) return ctx.args.list[Number(name) - 1] ?? '';
  if (name === '0') return 'sh';
  return ctx.vars.get(name) ?? '';
}
