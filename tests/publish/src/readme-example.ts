/**
 * The README example convention.
 *
 * A package README's runnable example is the FIRST fenced code block whose info string starts with a
 * JavaScript or TypeScript language tag and contains the word `example`:
 *
 *     ```ts example
 *     import { evaluateCaptions } from '@synth2/eval';
 *     const { metrics } = await evaluateCaptions({ … });
 *     console.log(metrics.CIDEr > 0); // prints: true
 *     ```
 *
 * It must be self-contained (no files it does not create itself, no network, no Redis), tiny (seconds) and
 * may use top-level `await`. A line comment `// prints: <text>` says that the program's standard output
 * contains `<text>`; the publish test checks it.
 */

export type ExampleLanguage = 'ts' | 'js';

export interface ReadmeExample {
  /** `ts` (types are stripped before running) or `js`. */
  readonly language: ExampleLanguage;
  /** The code between the fences. */
  readonly code: string;
  /** 1-based line of the opening fence in the README. */
  readonly line: number;
  /** Substrings the program's stdout must contain, from `// prints: …` comments, in order. */
  readonly expectedOutput: readonly string[];
}

const LANGUAGES: Record<string, ExampleLanguage> = {
  ts: 'ts',
  typescript: 'ts',
  mts: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
};

const OPENING_FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/**
 * Finds the runnable example of a README (see the module comment), or `undefined` when it has none.
 * Throws when the example block is never closed.
 */
export function extractReadmeExample(markdown: string, readmeName = 'README.md'): ReadmeExample | undefined {
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const open = OPENING_FENCE.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const info = open[2].trim();
    // a backtick fence's info string may not contain backticks (CommonMark): then it is not a fence
    if (fence[0] === '`' && info.includes('`')) continue;
    const close = findClosingFence(lines, i + 1, fence);
    const words = info.split(/[\s,{}]+/).filter(Boolean);
    const language = LANGUAGES[(words[0] ?? '').toLowerCase()];
    const isExample = language !== undefined && words.slice(1).some((w) => w.toLowerCase() === 'example');
    if (isExample) {
      if (close === -1) {
        throw new Error(
          `${readmeName}:${i + 1}: the \`${info}\` block is never closed: end it with a line of ${fence}`,
        );
      }
      const code = lines.slice(i + 1, close).join('\n');
      return { language, code, line: i + 1, expectedOutput: expectedOutput(code) };
    }
    if (close === -1) return undefined; // an unclosed block runs to the end of the document
    i = close;
  }
  return undefined;
}

function findClosingFence(lines: readonly string[], from: number, fence: string): number {
  const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
  for (let j = from; j < lines.length; j++) if (closing.test(lines[j])) return j;
  return -1;
}

/** The `// prints: <text>` comments of an example, in order. */
export function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const match of code.matchAll(/\/\/[ \t]*prints:[ \t]*(.*?)[ \t]*$/gm)) {
    if (match[1].length > 0) out.push(match[1]);
  }
  return out;
}

/** The message of the failure for a README that has no runnable example. */
export function missingExampleMessage(packageName: string, readmePath: string): string {
  return (
    `${readmePath} (${packageName}) has no runnable example: add a fenced block tagged \`\`\`ts example ` +
    `(or \`\`\`js example) under a "## Example" heading: a tiny, self-contained program (seconds, no network) ` +
    `that uses the package's public API; "// prints: <text>" comments state expected output.`
  );
}
