// A small FileCheck (LLVM's output checker) with lit-style RUN lines, for pass tests written in the IR's own words:
// a .kir file holds an input graph, the `kiln` command lines to run over it and what their output must contain.
// test/lit/lit.test.ts runs every test/lit/<pass>/*.kir with it.
//
// A lit file starts with a comment saying what it checks. Its RUN lines:
//   // RUN: <command> [&& <command>]... [| FileCheck %s [--check-prefix=P | --check-prefixes=P,Q]]
// <command> is one of
//   kiln <args> [2>&1]              run in-process through the CLI's own main(); must exit 0; its stdout is checked
//   not kiln <args> [2>&1]          must exit non-zero but not 2 (kiln's "internal error, please report", its crash);
//                                   its stderr is checked
//   not --crash kiln <args> [2>&1]  must exit 2 (for a case that pins a crash down)
//   cat <file>                      the file's text is checked (e.g. an IR dump a kiln command wrote)
// `2>&1` checks stdout and stderr together, in the order kiln wrote them. The checked texts of a line's commands
// are concatenated; a command that does not exit as expected fails the line, naming its status and both streams.
// Substitutions: %s the .kir file's path, %S its folder, %t a fresh empty folder for this file. Words split on
// spaces; '...' and "..." quote (no escapes inside). A RUN line ending in `\` continues on the next RUN line.
// Each RUN line is checked on its own against the directives of its prefixes (CHECK unless the FileCheck suffix
// says otherwise), so one file can run a pass twice and expect different things of each run.
//
// Directives, `// CHECK...: pattern`, are matched in order, line by line, from where the previous match ended:
//   CHECK:        the pattern occurs there or later (later on the same line included)
//   CHECK-NEXT:   ... on the line right after the previous match's line
//   CHECK-SAME:   ... on the previous match's line, after the match
//   CHECK-EMPTY:  the line after the previous match's line is empty (no pattern)
//   CHECK-NOT:    the pattern does not occur between the previous match and the next one (or the end of the block)
//   CHECK-LABEL:  matched first, in order; the labels cut the output into blocks and the other directives are
//                 matched within their block, so a failure is reported under its label and never matches across it
// A pattern is literal text except {{regex}}: a JavaScript regular expression, up to the first `}}`. Runs of spaces
// in the literal text match runs of spaces and tabs; leading and trailing spaces are ignored. A misspelt directive
// (`CHECK-NXT:`) is an error rather than a line that checks nothing, and so is a CHECK: directive (or any P-NEXT:,
// P-NOT:, ...) of a prefix no RUN line checks with. Not supported: [[VAR]] variables (literal text), CHECK-DAG,
// CHECK-COUNT.
// A failure names the directive (file:line), the pattern, the output line the search started from, and the output.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Directive = 'CHECK' | 'NEXT' | 'SAME' | 'NOT' | 'LABEL' | 'EMPTY';

const SUFFIXES: Readonly<Record<string, Directive>> = { '': 'CHECK', '-NEXT': 'NEXT', '-SAME': 'SAME', '-NOT': 'NOT', '-LABEL': 'LABEL', '-EMPTY': 'EMPTY' };

export interface Check {
  readonly prefix: string;
  readonly kind: Directive;
  /** As written, trimmed. */
  readonly pattern: string;
  /** The compiled pattern (global, so a search can start mid-line); it never spans lines. */
  readonly regex: RegExp;
  /** 1-based line of the directive in its file. */
  readonly line: number;
}

/** A lit file that is malformed, or output that does not match it; the message says which and where. */
export class LitError extends Error {
  override name = 'LitError';
}

export const directiveName = (c: Pick<Check, 'prefix' | 'kind'>): string => (c.kind === 'CHECK' ? c.prefix : `${c.prefix}-${c.kind}`);

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A pattern's regular expression: literal text, {{regex}} parts, and spaces matching any run of blanks. */
export function compilePattern(pattern: string, where = 'pattern'): RegExp {
  let source = '';
  let rest = pattern.trim();
  for (;;) {
    const open = rest.indexOf('{{');
    source += (open < 0 ? rest : rest.slice(0, open)).split(/[ \t]+/).map(escapeRegex).join('[ \\t]+');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new LitError(`${where}: '{{' without a closing '}}' in: ${pattern}`);
    const re = rest.slice(open + 2, close);
    try {
      new RegExp(re);
    } catch (e) {
      throw new LitError(`${where}: bad regular expression {{${re}}}: ${(e as Error).message}`);
    }
    source += `(?:${re})`;
    rest = rest.slice(close + 2);
  }
  return new RegExp(source, 'g');
}

/** The directives of `prefixes` in `text`, checked for the mistakes that would make them check nothing. */
export function parseChecks(text: string, prefixes: readonly string[], file: string): Check[] {
  const alternatives = prefixes.map(escapeRegex).join('|');
  const directive = new RegExp(`^\\s*//\\s*(${alternatives})(-[A-Za-z]+)?\\s*:(.*)$`);
  const checks: Check[] = [];
  text.split('\n').forEach((raw, i) => {
    const m = directive.exec(raw);
    if (!m) return;
    const where = `${file}:${i + 1}`;
    const kind = SUFFIXES[m[2] ?? ''];
    if (!kind) throw new LitError(`${where}: unknown directive ${m[1]}${m[2]} (known: ${Object.keys(SUFFIXES).map((s) => m[1] + s).join(', ')})`);
    const pattern = m[3]!.trim();
    const check: Check = { prefix: m[1]!, kind, pattern, regex: compilePattern(pattern, where), line: i + 1 };
    if (kind === 'EMPTY' ? pattern !== '' : pattern === '') throw new LitError(`${where}: ${directiveName(check)} ${kind === 'EMPTY' ? 'takes no pattern' : 'needs a pattern'}`);
    if ((kind === 'NEXT' || kind === 'SAME' || kind === 'EMPTY') && !checks.some((c) => c.kind !== 'NOT'))
      throw new LitError(`${where}: ${directiveName(check)} needs a previous ${m[1]}: or ${m[1]}-LABEL: to follow`);
    checks.push(check);
  });
  return checks;
}

/** A place in the output (0-based line, column), and a match on one line. */
type Pos = { readonly line: number; readonly col: number };
type Match = { readonly line: number; readonly start: number; readonly end: number };

const before = (a: Pos, b: Pos): Pos => (a.line < b.line || (a.line === b.line && a.col <= b.col) ? a : b);

/** The first match of `regex` at or after `from` and ending before `to`, within one line. */
function find(lines: readonly string[], regex: RegExp, from: Pos, to: Pos): Match | undefined {
  for (let l = from.line; l <= to.line && l < lines.length; l++) {
    const text = l === to.line ? lines[l]!.slice(0, to.col) : lines[l]!;
    regex.lastIndex = l === from.line ? from.col : 0;
    const m = regex.exec(text);
    if (m) return { line: l, start: m.index, end: m.index + m[0].length };
  }
  return undefined;
}

/** Output lines as written (a final newline ends the last line rather than starting an empty one). */
export function outputLines(output: string): string[] {
  const lines = output.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const MAX_SHOWN = 240;
const shorten = (s: string): string => (s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}... (${s.length} characters)` : s);

/** The output with line numbers, long lines (inline weights) cut short. */
export function numbered(lines: readonly string[]): string {
  if (lines.length === 1 && lines[0] === '') return '  (empty)';
  const width = String(lines.length).length;
  return lines.map((l, i) => `  ${String(i + 1).padStart(width)} | ${shorten(l)}`).join('\n');
}

/**
 * Checks `output` against `checks` (from parseChecks); throws a LitError naming the failing directive, its pattern,
 * the output line the search started from and the numbered output. `file` names the directives' file.
 */
export function checkOutput(output: string, checks: readonly Check[], file: string): void {
  const lines = outputLines(output);
  const end: Pos = { line: lines.length, col: 0 };
  const fail = (c: Check, from: Pos, why: string): never => {
    const at = from.line < lines.length ? `output line ${from.line + 1}${from.col ? `, column ${from.col + 1}` : ''}: ${shorten(lines[from.line]!)}` : 'the end of the output';
    throw new LitError(`${file}:${c.line}: ${directiveName(c)}: ${why}\n  pattern: ${c.pattern}\n  searched from ${at}\noutput:\n${numbered(lines)}`);
  };

  // Labels first, each after the one before: they bound the blocks the other directives are matched in.
  const labels = new Map<Check, Match>();
  let from: Pos = { line: 0, col: 0 };
  for (const c of checks) {
    if (c.kind !== 'LABEL') continue;
    const m = find(lines, c.regex, from, end) ?? fail(c, from, 'label not found');
    labels.set(c, m);
    from = { line: m.line, col: m.end };
  }
  const matchedLabels = [...labels.values()];
  const blockEnd = (k: number): Pos => (k < matchedLabels.length ? { line: matchedLabels[k]!.line, col: matchedLabels[k]!.start } : end);

  let pos: Pos = { line: 0, col: 0 };
  let last = -1; // the line of the previous match
  let limit = blockEnd(0);
  let labelsSeen = 0;
  let nots: Check[] = [];
  // The CHECK-NOTs since the previous match must not occur between it and `to`.
  const excluded = (to: Pos): void => {
    for (const n of nots) {
      const m = find(lines, n.regex, pos, to);
      if (m) fail(n, pos, `excluded pattern found on output line ${m.line + 1}: ${shorten(lines[m.line]!)}`);
    }
    nots = [];
  };
  const matched = (m: Match): void => {
    excluded({ line: m.line, col: m.start });
    pos = { line: m.line, col: m.end };
    last = m.line;
  };
  for (const c of checks) {
    switch (c.kind) {
      case 'NOT':
        nots.push(c);
        break;
      case 'LABEL': {
        excluded(limit);
        const m = labels.get(c)!;
        pos = { line: m.line, col: m.end };
        last = m.line;
        limit = blockEnd(++labelsSeen);
        break;
      }
      case 'CHECK':
        matched(find(lines, c.regex, pos, limit) ?? fail(c, pos, 'expected pattern not found'));
        break;
      case 'NEXT': {
        const next: Pos = { line: last + 1, col: 0 };
        const m = find(lines, c.regex, next, limit) ?? fail(c, next, 'expected pattern not found on the line after the previous match');
        if (m.line !== last + 1) fail(c, next, `expected on output line ${last + 2} (the line after the previous match), found only on line ${m.line + 1}`);
        matched(m);
        break;
      }
      case 'SAME':
        matched(find(lines, c.regex, pos, before(limit, { line: last, col: lines[last]?.length ?? 0 })) ?? fail(c, pos, 'expected pattern not found on the line of the previous match'));
        break;
      case 'EMPTY': {
        const next: Pos = { line: last + 1, col: 0 };
        if (before(limit, next) !== next || lines[next.line] !== '') fail(c, next, 'expected an empty line after the previous match');
        excluded(next);
        pos = next;
        last = next.line;
        break;
      }
    }
  }
  excluded(limit);
}

// --- RUN lines ---

export interface KilnResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Both streams in the order they were written. */
  readonly merged: string;
}

/** Runs `kiln <argv>` and captures what it wrote. */
export type Kiln = (argv: readonly string[]) => Promise<KilnResult>;

export type Step =
  | { readonly kind: 'kiln'; readonly argv: readonly string[]; readonly expect: 'success' | 'failure' | 'crash'; readonly merge: boolean }
  | { readonly kind: 'cat'; readonly file: string };

export interface RunLine {
  /** 1-based line of the RUN line (its first, when continued) in its file. */
  readonly line: number;
  /** The command as written, continuations joined. */
  readonly text: string;
  readonly steps: readonly Step[];
  readonly prefixes: readonly string[];
}

export type Word = { readonly text: string; readonly quoted: boolean };

/** Shell-like words: blanks separate, '...' and "..." quote (no escapes); a word with a quote in it is `quoted`. */
export function splitWords(s: string, where = 'RUN'): Word[] {
  const words: Word[] = [];
  let word: Word | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === ' ' || ch === '\t') {
      if (word) words.push(word);
      word = undefined;
    } else if (ch === "'" || ch === '"') {
      const close = s.indexOf(ch, i + 1);
      if (close < 0) throw new LitError(`${where}: unterminated ${ch} in: ${s}`);
      word = { text: (word?.text ?? '') + s.slice(i + 1, close), quoted: true };
      i = close;
    } else word = { text: (word?.text ?? '') + ch, quoted: word?.quoted ?? false };
  }
  if (word) words.push(word);
  return words;
}

/** The RUN lines of a lit file, with %s, %S and %t substituted. */
export function parseRunLines(text: string, file: string, tmp: string): RunLine[] {
  const subst = (w: string): string => w.replace(/%[sSt]/g, (v) => (v === '%s' ? file : v === '%S' ? dirname(file) : tmp));
  const joined: { line: number; text: string }[] = [];
  let open: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const m = /^\s*\/\/\s*RUN:(.*)$/.exec(raw);
    if (!m) {
      if (open) throw new LitError(`${file}:${open.line}: the RUN line ends in '\\' but line ${i + 1} does not continue it`);
      return;
    }
    const part = m[1]!.trim();
    const cont = part.endsWith('\\');
    const piece = cont ? part.slice(0, -1).trim() : part;
    if (open) open.text += ` ${piece}`;
    else open = { line: i + 1, text: piece };
    if (!cont) {
      joined.push(open);
      open = undefined;
    }
  });
  if (open) throw new LitError(`${file}:${open.line}: the last RUN line ends in '\\'`);
  return joined.map(({ line, text: cmd }) => parseRunLine(cmd, `${file}:${line}`, line, subst));
}

function parseRunLine(text: string, where: string, line: number, subst: (w: string) => string): RunLine {
  const words = splitWords(text, where);
  const op = (w: Word | undefined, s: string): boolean => !!w && !w.quoted && w.text === s;
  let prefixes = ['CHECK'];
  const pipe = words.findIndex((w) => op(w, '|'));
  if (pipe >= 0) {
    const [tool, file, ...flags] = words.slice(pipe + 1).map((w) => w.text);
    if (tool !== 'FileCheck' || file !== '%s') throw new LitError(`${where}: only '| FileCheck %s [--check-prefix=P]' may follow '|'`);
    for (const f of flags) {
      const m = /^--check-prefix(es)?=([A-Za-z][A-Za-z0-9_]*(?:,[A-Za-z][A-Za-z0-9_]*)*)$/.exec(f);
      if (!m || (!m[1] && m[2]!.includes(','))) throw new LitError(`${where}: unknown FileCheck option '${f}' (options: --check-prefix=P, --check-prefixes=P,Q)`);
      prefixes = m[2]!.split(',');
      if (prefixes.includes('RUN')) throw new LitError(`${where}: RUN is not a check prefix`);
    }
    words.length = pipe;
  }
  const steps: Step[] = [];
  let current: Word[] = [];
  const finish = (): void => {
    if (!current.length) throw new LitError(`${where}: empty command in: ${text}`);
    steps.push(parseStep(current, where, subst));
    current = [];
  };
  for (const w of words) {
    if (op(w, '&&')) finish();
    else current.push(w);
  }
  finish();
  return { line, text, steps, prefixes };
}

function parseStep(words: readonly Word[], where: string, subst: (w: string) => string): Step {
  // Substitutions and operators apply to unquoted words only.
  const texts = words.map((w) => (w.quoted ? w.text : subst(w.text)));
  const bare = (i: number, s: string): boolean => !words[i]?.quoted && words[i]?.text === s;
  if (bare(0, 'cat')) {
    if (texts.length !== 2) throw new LitError(`${where}: cat takes one file`);
    return { kind: 'cat', file: texts[1]! };
  }
  let at = 0;
  let expect: 'success' | 'failure' | 'crash' = 'success';
  if (bare(at, 'not')) {
    at++;
    expect = 'failure';
    if (bare(at, '--crash')) {
      at++;
      expect = 'crash';
    }
  }
  if (!bare(at, 'kiln')) throw new LitError(`${where}: a command is 'kiln ...', 'not kiln ...' or 'cat <file>', got: ${texts.join(' ')}`);
  const merge = texts.length > at + 1 && bare(texts.length - 1, '2>&1');
  return { kind: 'kiln', argv: texts.slice(at + 1, merge ? -1 : undefined), expect, merge };
}

/** Whether a lit file opens with a comment saying what it checks (not with a RUN or CHECK line). */
export function describesItself(text: string): boolean {
  const first = text.split('\n')[0] ?? '';
  return /^\/\/\s*\S/.test(first) && !/^\/\/\s*(RUN|[A-Z][A-Z0-9_-]*)\s*:/.test(first);
}

/** What one step leaves to check, or why it failed. */
async function runStep(step: Step, kiln: Kiln, where: string): Promise<string> {
  if (step.kind === 'cat') {
    try {
      return readFileSync(step.file, 'utf8');
    } catch (e) {
      throw new LitError(`${where}: cat ${step.file}: ${(e as Error).message}`);
    }
  }
  const r = await kiln(step.argv);
  const ok = step.expect === 'success' ? r.code === 0 : step.expect === 'crash' ? r.code === 2 : r.code !== 0 && r.code !== 2;
  if (!ok) {
    const wanted = { success: 'exit status 0', failure: 'a non-zero exit status other than 2 (2 is an internal error)', crash: 'exit status 2 (an internal error)' }[step.expect];
    throw new LitError(`${where}: kiln ${step.argv.join(' ')}\n  exited ${r.code}, expected ${wanted}\nstdout:\n${numbered(outputLines(r.stdout))}\nstderr:\n${numbered(outputLines(r.stderr))}`);
  }
  return step.merge ? r.merged : step.expect === 'success' ? r.stdout : r.stderr;
}

/**
 * Runs the lit file at `file` (its path as %s shows it): every RUN line, each checked against the directives of its
 * prefixes. `tmp` is the folder %t names. Throws a LitError on the first failure; returns the RUN lines run.
 */
export async function runLitFile(file: string, kiln: Kiln, tmp: string): Promise<number> {
  const text = readFileSync(file, 'utf8');
  if (!describesItself(text)) throw new LitError(`${file}:1: a lit file starts with a comment saying what it checks`);
  const runs = parseRunLines(text, file, tmp);
  if (!runs.length) throw new LitError(`${file}: no RUN lines`);
  // Directives of a prefix no RUN line uses would check nothing.
  const used = new Set(runs.flatMap((r) => r.prefixes));
  text.split('\n').forEach((line, i) => {
    const m = /^\s*\/\/\s*([A-Za-z][A-Za-z0-9_]*)(-NEXT|-SAME|-NOT|-LABEL|-EMPTY)?\s*:/.exec(line);
    if (m && (m[1] === 'CHECK' || m[2]) && !used.has(m[1]!)) throw new LitError(`${file}:${i + 1}: a ${m[1]}${m[2] ?? ''}: directive, but no RUN line checks with prefix ${m[1]}`);
  });
  for (const run of runs) {
    const checks = parseChecks(text, run.prefixes, file);
    if (!checks.some((c) => c.kind !== 'NOT')) throw new LitError(`${file}:${run.line}: no ${run.prefixes.join('/')}: directives to check this RUN line's output with`);
    let output = '';
    for (const step of run.steps) output += await runStep(step, kiln, `${file}:${run.line}`);
    try {
      checkOutput(output, checks, file);
    } catch (e) {
      if (e instanceof LitError) e.message = `${e.message}\n(RUN line ${run.line}: ${run.text})`;
      throw e;
    }
  }
  return runs.length;
}
