/** Phrases that open a refusal rather than a caption. */
const REFUSAL = /^(?:i'?m sorry|i am sorry|sorry\b|i apologi[sz]e|i can(?:not|'t|\s+not)\b|i'?m (?:not able|unable)|i am (?:not able|unable)|as an ai\b|unfortunately,? i\b|i won'?t\b)/i;
const PREAMBLE = /^(?:sure|certainly|of course|okay|ok|here(?:'s| is| are)\b)[^\n]*?[:!.]\s*$/i;
const LABEL = /^(?:caption|description|image caption|answer|output)\s*(?:\d+\s*)?[:\-–]\s*/i;
const LIST_ITEM = /^\s*(?:\d+\s*[.):-]|[-*•]|\(\d+\))\s+/;

/** One caption text cleaned out of an LLM answer. */
export interface CleanedCaption {
  text: string;
  /** Set when the text is not a caption. */
  reject?: 'refusal' | 'empty';
}

function stripQuotes(text: string): string {
  let t = text.trim();
  for (let i = 0; i < 3; i++) {
    const m = /^(["'“‘`«])([\s\S]*)(["'”’`»])$/.exec(t);
    if (!m) break;
    t = m[2].trim();
  }
  return t.replace(/^["“]|["”]$/g, '').trim();
}

function cleanLine(line: string): string {
  let t = line.trim();
  t = t.replace(LIST_ITEM, '');
  t = t.replace(/\*\*|__|\*|#+\s/g, '');
  t = t.replace(LABEL, '');
  t = stripQuotes(t);
  t = t.replace(LABEL, '');
  t = t.replace(/\s+/g, ' ').trim();
  return t;
}

/**
 * Cleans an LLM answer into caption texts: drops preambles ("Here is a caption:"), labels ("Caption:"), list
 * numbering, markdown and surrounding quotes; a numbered or bulleted list becomes several captions. Refusals and
 * empty answers are marked for rejection.
 */
export function cleanCaptionText(raw: string): CleanedCaption[] {
  const lines = raw
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const body = lines.filter((l, i) => !(i < lines.length - 1 && PREAMBLE.test(l)) && !/^[^\s].{0,60}:$/.test(l) || lines.length === 1);
  if (body.length === 0) return [{ text: '', reject: 'empty' }];
  const first = cleanLine(body[0]);
  if (REFUSAL.test(first) || REFUSAL.test(stripQuotes(raw.trim()))) return [{ text: raw.trim(), reject: 'refusal' }];
  const isList = body.length > 1 && body.filter((l) => LIST_ITEM.test(l)).length >= 2;
  const chosen = isList ? body.filter((l) => LIST_ITEM.test(l)) : [body[0]];
  const out: CleanedCaption[] = [];
  for (const line of chosen) {
    const text = cleanLine(line);
    if (!text) continue;
    if (REFUSAL.test(text)) out.push({ text, reject: 'refusal' });
    else out.push({ text });
  }
  return out.length > 0 ? out : [{ text: '', reject: 'empty' }];
}

/** Lower-case, punctuation-free, single-spaced form used for exact duplicate detection. */
export function normalizeCaption(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
