/** One fenced code block of a README, with the HTML-comment directives written just above it. */
export interface CodeBlock {
  /** README path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** First word of the info string (`ts`, `sh`, …), lower-case; '' when none. */
  lang: string;
  code: string;
  /** `<!-- mirrored-by: a, b -->`: the files that mirror the block. */
  mirroredBy?: string[];
  /** `<!-- snippet: continues -->`: the block runs after the previous ts/js block of the same README. */
  continues?: boolean;
  /** `<!-- snippet-files: name=source … -->`: files put beside the snippet before it runs. */
  files?: Record<string, string>;
}

export const SCRIPT_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'tsx']);
export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/** The directives in the comment lines right above line `at` (blank lines between are allowed). */
function directivesAbove(lines: string[], at: number): Pick<CodeBlock, 'mirroredBy' | 'continues' | 'files'> {
  const out: Pick<CodeBlock, 'mirroredBy' | 'continues' | 'files'> = {};
  for (let i = at - 1; i >= 0 && at - i <= 4; i--) {
    const text = lines[i].trim();
    if (text === '') continue;
    const m = /^<!--\s*(mirrored-by|snippet|snippet-files):\s*(.*?)\s*-->$/.exec(text);
    if (!m) break;
    if (m[1] === 'mirrored-by') out.mirroredBy = m[2].split(/[,\s]+/).filter(Boolean);
    else if (m[1] === 'snippet' && m[2] === 'continues') out.continues = true;
    else if (m[1] === 'snippet-files') {
      out.files = Object.fromEntries(m[2].split(/\s+/).filter(Boolean).map((pair) => pair.split('=') as [string, string]));
    } else throw new Error(`unknown directive "${text}" above line ${at + 1}`);
  }
  return out;
}

/** Every fenced block (``` or ~~~, any length) of a markdown text. */
export function extractBlocks(text: string, file: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(`{3,}|~{3,})\s*([^`\s]*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j])) j++;
    blocks.push({
      file,
      line: i + 1,
      lang: open[2].toLowerCase(),
      code: lines.slice(i + 1, j).join('\n'),
      ...directivesAbove(lines, i),
    });
    i = j;
  }
  return blocks;
}
