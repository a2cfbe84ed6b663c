import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One command of a shell block: its words (comments, env assignments, `[`/`]` and `…` removed). */
export function shellCommands(code: string): string[][] {
  const out: string[][] = [];
  for (const raw of code.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    for (const part of line.split(/&&|\|\||;/)) {
      const words = part
        .trim()
        .split(/\s+/)
        .map((w) => w.replace(/[[\]]/g, ''))
        .filter((w) => w && !/^…|\.\.\.$/.test(w));
      while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift();
      if (words[0] === 'npx') words.shift();
      if (words.length) out.push(words);
    }
  }
  return out;
}

export interface ShellContext {
  root: string;
  /** `synth2 <args> --help` output (the CLI's parser's own option list). */
  synth2Help: (path: string[]) => Promise<string>;
  /** Throws when the dotted flags are not valid config keys/values (the CLI's `resolveConfig`). */
  checkOverrides: (args: string[]) => void;
}

function workspaces(root: string): Map<string, { dir: string; scripts: Record<string, string> }> {
  const found = new Map<string, { dir: string; scripts: Record<string, string> }>();
  for (const group of ['packages', 'examples', 'tests']) {
    if (!existsSync(join(root, group))) continue;
    for (const name of readdirSync(join(root, group))) {
      const file = join(root, group, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; scripts?: Record<string, string> };
      const entry = { dir: `${group}/${name}`, scripts: pkg.scripts ?? {} };
      found.set(pkg.name, entry);
      found.set(entry.dir, entry);
    }
  }
  return found;
}

/** The subcommand path of a synth2 command line (the words before the first flag that name commands). */
async function commandPath(args: string[], ctx: ShellContext): Promise<string[]> {
  const path: string[] = [];
  for (const word of args) {
    if (word.startsWith('-')) break;
    const help = await ctx.synth2Help(path);
    const commands = help.split(/\nCommands:\n/)[1] ?? '';
    if (!new RegExp(`^\\s+${word}\\b`, 'm').test(commands)) break;
    path.push(word);
  }
  return path;
}

/** Problems with one `synth2 …` command: unknown subcommands, flags its parser does not define, bad config keys. */
async function checkSynth2(args: string[], ctx: ShellContext): Promise<string[]> {
  const problems: string[] = [];
  const path = await commandPath(args, ctx);
  if (path.length === 0 && args.length && !args[0].startsWith('-')) problems.push(`synth2 has no command "${args[0]}"`);
  const help = await ctx.synth2Help(path);
  const flags = args.filter((a) => /^--?[a-zA-Z]/.test(a) && !/^--[\w-]+\.[\w.-]+/.test(a)).map((a) => a.split('=')[0]);
  for (const flag of flags) {
    if (!new RegExp(`(^|[\\s,])${flag}(\\s|,|$|=|<)`, 'm').test(help)) problems.push(`synth2 ${path.join(' ')}: no option ${flag}`);
  }
  try {
    ctx.checkOverrides(args);
  } catch (error) {
    problems.push(`synth2 ${path.join(' ')}: ${(error as Error).message}`);
  }
  return problems;
}

/** Problems with one `synth2-eval …` command: options its `--help` does not list. */
function checkSynth2Eval(args: string[], root: string): string[] {
  const bin = join(root, 'packages/eval/dist/bin.js');
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  const text = `${help.stdout}${help.stderr}`;
  return args
    .filter((a) => a.startsWith('--'))
    .map((a) => a.split('=')[0])
    .filter((flag) => !new RegExp(`${flag}\\b`).test(text))
    .map((flag) => `synth2-eval: no option ${flag}`);
}

/** Problems with `npm start|test|run <script> [-w <workspace>]` and `npm install @synth2/<x>`. */
function checkNpm(args: string[], root: string): string[] {
  const all = workspaces(root);
  const [verb, ...rest] = args;
  if (verb === 'install' || verb === 'i') {
    return rest
      .filter((a) => a.startsWith('@synth2/'))
      .map((a) => a.replace(/@[^@/]*$/, (v) => (v.includes('/') ? v : '')))
      .filter((name) => !all.has(name))
      .map((name) => `npm install: there is no package ${name} in packages/`);
  }
  if (!['start', 'test', 'run'].includes(verb)) return [];
  const dashDash = rest.indexOf('--');
  const own = dashDash >= 0 ? rest.slice(0, dashDash) : rest;
  const script = verb === 'run' ? own.find((a) => !a.startsWith('-') && own[own.indexOf(a) - 1] !== '-w') : verb;
  const w = own.indexOf('-w');
  const target = w >= 0 ? own[w + 1] : undefined;
  const scripts = target
    ? all.get(target)?.scripts
    : (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  if (!scripts) return [`npm ${verb}: there is no workspace "${target}"`];
  return script && !scripts[script] ? [`npm ${verb}: ${target ?? 'the root package'} has no script "${script}"`] : [];
}

/** Every problem of a shell block's commands (empty: every synth2 command, flag and npm script exists). */
export async function checkShellBlock(code: string, ctx: ShellContext): Promise<string[]> {
  const problems: string[] = [];
  for (const words of shellCommands(code)) {
    const [cmd, ...args] = words;
    if (cmd === 'synth2') problems.push(...(await checkSynth2(args, ctx)));
    else if (cmd === 'synth2-eval') problems.push(...checkSynth2Eval(args, ctx.root));
    else if (cmd === 'npm') problems.push(...checkNpm(args, ctx.root));
  }
  return problems;
}
