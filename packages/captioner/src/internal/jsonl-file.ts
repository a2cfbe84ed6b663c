import { promises as fs } from 'node:fs';

// Resume needs the byte offset of every complete line (to cut a half-written tail), which core's `readJsonl`
// does not expose; atomic writes come from core (`writeFileAtomic`).

export interface JsonlLine {
  /** 1-based line number. */
  line: number;
  value: unknown;
  /** Byte offset just after this line's newline. */
  end: number;
}

export interface JsonlReadResult {
  lines: JsonlLine[];
  /** Byte length of the complete (newline-terminated, parseable) prefix of the file. */
  validBytes: number;
  /** True when the file ends with an unterminated or unparseable last line (a write cut short). */
  truncatedTail: boolean;
}

/**
 * Reads a JSONL file that may have been cut short by a crash: every newline-terminated line must parse (else the
 * `onBadLine` callback decides), an unterminated last line is reported as `truncatedTail` and not returned.
 */
export async function readJsonlTolerant(
  file: string,
  onBadLine: (line: number, text: string, error: unknown) => never,
): Promise<JsonlReadResult> {
  const buffer = await fs.readFile(file);
  const lines: JsonlLine[] = [];
  let start = 0;
  let lineNo = 0;
  let validBytes = 0;
  while (start < buffer.length) {
    const nl = buffer.indexOf(0x0a, start);
    if (nl < 0) return { lines, validBytes, truncatedTail: true };
    lineNo++;
    const text = buffer.subarray(start, nl).toString('utf8').trim();
    start = nl + 1;
    if (text.length === 0) {
      validBytes = start;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // The last line can be garbage only if it was being written when the process died.
      if (start >= buffer.length) return { lines, validBytes, truncatedTail: true };
      onBadLine(lineNo, text, error);
    }
    lines.push({ line: lineNo, value, end: start });
    validBytes = start;
  }
  return { lines, validBytes, truncatedTail: false };
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
