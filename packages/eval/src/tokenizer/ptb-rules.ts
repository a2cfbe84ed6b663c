/**
 * The token rules of Stanford CoreNLP 3.4.1's PTB lexer as the COCO evaluation runs it (default options plus
 * `tokenizeNLs`: PTB3 escaping, LaTeX quotes, `...` ellipses, `--` dashes, split assimilations, untokenizable
 * characters deleted), written as JavaScript regular expressions. The behaviour was learned from the lexer's public
 * specification and checked against its output; see `docs/ptb-tokenizer-rules.md` for the rules in words.
 *
 * Conventions of the reference lexer that these patterns reproduce:
 * - it scans UTF-16 code units, so every pattern is compiled without the `u` flag and the Unicode classes are
 *   spelled out as BMP ranges (a character outside the BMP is two units that no letter/digit class matches);
 * - literal words are case-insensitive, character classes are not (`[A]rk` matches `Ark` and `ARK`, not `ark`);
 * - at each position the longest match wins, trailing context counting towards the length; ties go to the rule
 *   listed first.
 */

import { LEXER_DIGIT, LEXER_LETTER, LEXER_UPPER } from './ptb-unicode';

/** Case-insensitive version of a literal (the lexer's `%caseless` option applies to literals only). */
export function ci(literal: string): string {
  let out = '';
  for (const ch of literal) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    if (lo !== up && lo.length === 1 && up.length === 1) out += `[${lo}${up}]`;
    else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}
const alt = (...words: string[]): string => `(?:${words.map(ci).join('|')})`;

// ---- character classes (bodies, without brackets) -------------------------------------------------------------
// The lexer's Unicode classes (older than JavaScript's), precomputed as BMP ranges.
const UNICODE_LETTER = LEXER_LETTER;
const UNICODE_DIGIT = LEXER_DIGIT;
const UNICODE_UPPER = LEXER_UPPER;
const EXTRA_LETTERS =
  '\\u00AD\\u0237-\\u024F\\u02C2-\\u02C5\\u02D2-\\u02DF\\u02E5-\\u02FF\\u0300-\\u036F\\u0370-\\u037D\\u0384\\u0385\\u03CF\\u03F6\\u03FC-\\u03FF\\u0483-\\u0487\\u04CF\\u04F6-\\u04FF\\u0510-\\u0525\\u055A-\\u055F\\u0591-\\u05BD\\u05BF\\u05C1\\u05C2\\u05C4\\u05C5\\u05C7\\u0615-\\u061A\\u063B-\\u063F\\u064B-\\u065E\\u0670\\u06D6-\\u06EF\\u06FA-\\u06FF\\u070F\\u0711\\u0730-\\u074F\\u0750-\\u077F\\u07A6-\\u07B1\\u07CA-\\u07F5\\u07FA\\u0900-\\u0903\\u093C\\u093E-\\u094E\\u0951-\\u0955\\u0962-\\u0963\\u0981-\\u0983\\u09BC-\\u09C4\\u09C7\\u09C8\\u09CB-\\u09CD\\u09D7\\u09E2\\u09E3\\u0A01-\\u0A03\\u0A3C\\u0A3E-\\u0A4F\\u0A81-\\u0A83\\u0ABC-\\u0ACF\\u0B82\\u0BBE-\\u0BC2\\u0BC6-\\u0BC8\\u0BCA-\\u0BCD\\u0C01-\\u0C03\\u0C3E-\\u0C56\\u0D3E-\\u0D44\\u0D46-\\u0D48\\u0E30-\\u0E3A\\u0E47-\\u0E4E\\u0EB1-\\u0EBC\\u0EC8-\\u0ECD';

/** `[:letter:]` of the lexer. */
const ULETTER = `[${UNICODE_LETTER}]`;
/** `[:digit:]` of the lexer. */
const UDIGIT = `[${UNICODE_DIGIT}]`;
const UPPER = `[${UNICODE_UPPER}]`;
const SPLET = `&[aeiouAEIOU]${alt('acute', 'grave', 'uml')};`;
const LETTER = `(?:[${UNICODE_LETTER}${EXTRA_LETTERS}]|${SPLET})`;
const DIGIT = `[${UNICODE_DIGIT}\\u07C0-\\u07C9]`;
const LETTER_OR_DIGIT = `(?:[${UNICODE_LETTER}${EXTRA_LETTERS}${UNICODE_DIGIT}\\u07C0-\\u07C9]|${SPLET})`;
const ULD = `[${UNICODE_LETTER}${UNICODE_DIGIT}]`;

export const SPACE = '[ \\t\\u00A0\\u2000-\\u200A\\u3000]';
export const NEWLINE = '(?:\\r\\n|[\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085])';
const SPACENL = `(?:${SPACE}|${NEWLINE})`;
const SGML_NAME = '[A-Za-z][A-Za-z0-9_:.\\-]*';
const SGML = `<(?:[!?][A-Za-z\\-][^>\\r\\n]*|${SGML_NAME}(?: +(?:${SGML_NAME} *= *(?:'[^']*'|"[^"]*")|${SGML_NAME}))* *\\/?|\\/${SGML_NAME}) *>`;
const SENTEND = `${SPACENL}(?:${SPACENL}|${UPPER}|${SGML})`;
const APOS = `(?:['\\u0092\\u2019]|${ci('&apos;')})`;
const APOSETC = `(?:${APOS}|[\`\\u0091\\u2018\\u201B])`;
const HYPHEN = '[\\-_\\u058A\\u2010\\u2011]';
const NUM = `(?:${DIGIT}*(?:[.:,\\u00AD\\u066B\\u066C]${DIGIT}+)+|${DIGIT}+)`;
const ACRO_SPECIAL = `${alt('Canada', 'Sino', 'Korean', 'EU', 'Japan', 'non')}-${ci('U.S')}|${ci('U.S.-')}(?:${ci('U.S.S.R')}|${ci('U.K')})`;
const ACRO = `(?:${ACRO_SPECIAL}|[A-Za-z](?:\\.[A-Za-z])*)`;
const ACRO2 = `(?:${ACRO_SPECIAL}|[A-Za-z](?:\\.[A-Za-z])+)`;
const REDAUX = `${APOS}(?:${alt('re', 've', 'll')}|[msdMSD])`;
const SREDAUX = `${ci('n')}${APOSETC}${ci('t')}`;
const WORD = `${LETTER}${LETTER_OR_DIGIT}*(?:[.!?]${LETTER}${LETTER_OR_DIGIT}*)*`;
const SWORD = '[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*';
const FILENAME_EXT = alt('bat', 'bmp', 'class', 'cgi', 'cpp', 'c', 'dll', 'docx', 'doc', 'exe', 'gif', 'gz', 'html', 'htm', 'h', 'jar', 'java', 'jpeg', 'jpg', 'mov', 'mp3', 'pdf', 'php', 'pl', 'png', 'ppt', 'ps', 'py', 'sql', 'tar', 'txt', 'wav', 'xml', 'x', 'zip');
const FILENAME = `${LETTER_OR_DIGIT}+(?:\\.${LETTER_OR_DIGIT}+)*\\.${FILENAME_EXT}`;
const THING_PART = `(?:[dDoOlL]${APOSETC}${ULD})?${ULD}+`;
const THING = `${THING_PART}(?:${HYPHEN}${THING_PART})*`;
const SPAMP = ci('&amp;');
const THINGA = `[A-Z]+(?:(?:[+&]|${SPAMP})[A-Z]+)+`;
const THING3 = '[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?\\/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}';
const HTHING = `[A-Za-z0-9][A-Za-z0-9.,\\u00AD]*(?:-(?:${ACRO2}\\.|[A-Za-z0-9\\u00AD]+))+`;
const APOWORD = [
  `${APOS}${ci('n')}${APOS}?`,
  `[lLdDjJ]${APOS}`,
  `${ci('Dunkin')}${APOS}`,
  `${ci('somethin')}${APOS}`,
  `${ci('ol')}${APOS}`,
  `${APOS}${ci('em')}`,
  `[A-HJ-XZn]${APOSETC}${ULETTER}{2,}`,
  `${APOS}[2-9]0${ci('s')}`,
  `${APOS}${ci('til')}${ci('l')}?`,
  `${ULETTER}+[aeiouyAEIOUY]${APOSETC}[aeiouA-Z]${ULETTER}*`,
  `${APOS}${ci('cause')}`,
  `${ci("cont'd")}\\.?`,
  ci("'twas"),
  ci("nor'easter"),
  ci("c'mon"),
  ci("e'er"),
  ci("s'mores"),
  ci("ev'ry"),
  ci("li'l"),
  ci("nat'l"),
  `${ci('O')}${APOSETC}${ci('o')}`,
];
// URL and e-mail classes: a JFlex class `,-_` is the range U+002C..U+005F (digits, upper case and most punctuation).
const FULLURL = `${ci('http')}${ci('s')}?:\\/\\/[^ \\t\\n\\f\\r"<>|(){}]+[^ \\t\\n\\f\\r"<>|.!?(){},\\-]`;
const URL_PATH = '(?:\\/[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},\\-])?';
const LIKELYURL = [
  `${ci('www.')}(?:[^ \\t\\n\\f\\r"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4}${URL_PATH}`,
  `(?:[^ \\t\\n\\f\\r"\`'<>|.!?(){}\\u002C-\\u005F$]+\\.)+${alt('com', 'net', 'org', 'edu')}${URL_PATH}`,
];
const EMAIL = `(?:${ci('&lt;')}|<)?[a-zA-Z0-9][^ \\t\\n\\f\\r"<>|()\\u00A0{}]*@(?:[^ \\t\\n\\f\\r"<>|(){}.\\u00A0]+\\.)*[^ \\t\\n\\f\\r"<>|(){}.\\u00A0]+(?:${ci('&gt;')}|>)?`;
const TWITTER = `@[a-zA-Z_][a-zA-Z_0-9]*|#${LETTER}+`;

// Abbreviations: literals are case-insensitive, a bracketed first letter must be upper case.
const ABMONTH = alt('Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sept', 'Sep', 'Oct', 'Nov', 'Dec');
const ABDAYS = alt('Mon', 'Tues', 'Tue', 'Wed', 'Thurs', 'Thu', 'Fri');
const ABSTATE = `(?:${alt('Ala', 'Ariz', 'Calif', 'Colo', 'Conn', 'Ct', 'Dak', 'Fla', 'Ga', 'Ind', 'Kans', 'Kan', 'Ky', 'Md', 'Mich', 'Minn', 'Mo', 'Mont', 'Neb', 'Nev', 'Okla', 'Penn', 'Tenn', 'Va', 'Vt', 'Wisc', 'Wis', 'Wyo')}|A${ci('z')}|A${ci('rk')}|D${ci('el')}|I${ci('ll')}|L${ci('a')}|M${ci('ass')}|M${ci('iss')}|O${ci('re')}|P${ci('a')}|T${ci('ex')}|W${ci('ash')})`;
const ABCOMP = `(?:${alt('Inc', 'Cos', 'Co', 'Corp', 'Ltd', 'Plc', 'Rt', 'Bancorp', 'Bhd', 'Assn', 'Univ', 'Intl', 'Sys')}|${ci('P')}${ci('p')}?${ci('t')}[ye]${ci('s')}?)`;
const ABNUM = alt('tel', 'est', 'ext', 'sq');
const ABPTIT = `(?:${alt('Jr', 'Sr', 'Bros', 'Blvd', 'Rd', 'Esq')}|${alt('Ed', 'Ph')}${ci('.D')})`;
const ABBREV1 = `(?:${ABMONTH}|${ABDAYS}|${ABSTATE}|${ABCOMP}|${ABNUM}|${ABPTIT}|${alt('etc', 'al', 'seq', 'Bldg')})\\.`;
const ABTITLE = `(?:${alt('Mrs', 'Mr', 'Ms', 'Drs', 'Dr', 'Profs', 'Prof', 'Sens', 'Sen', 'Reps', 'Rep', 'Attys', 'Atty', 'Lt', 'Col', 'Gen', 'Messrs', 'Govs', 'Gov', 'Adm', 'Rev', 'Maj', 'Sgt', 'Cpl', 'Pvt', 'Capt', 'Ste', 'St', 'Ave', 'Pres', 'Lieut', 'Hon', 'Brig', 'Comdr', 'Cmdr', 'Pfc', 'Spc', 'Supts', 'Supt', 'Det', 'Mt', 'Ft', 'Adj', 'Adv', 'Asst', 'Assoc', 'Ens', 'Insp', 'Mlle', 'Mme', 'Msgr', 'Sfc')}|M${ci('iss')})`;
const ABCOMP2 = `(?:${alt('Invt', 'Elec', 'Natl', 'Dept')}|${ci('M')}[ft]${ci('g')})`;
const ABBREV4_WORDS = `(?:${ABTITLE}|${alt('vs', 'Alex', 'Wm', 'Jos', 'Cie', 'a.k.a', 'cf', 'TREAS', 'Ph')}|${ABCOMP2})`;
/** ABBREV4 as alternatives (`a.k.a` is a word of the list and a prefix of the acronym `a.k.a.x`). */
const ABBREV4 = [ABBREV4_WORDS, ACRO];
const ABBREV3 = `${alt('ca', 'figs', 'fig', 'prop', 'nos', 'no', 'art', 'bldg', 'pp', 'op')}\\.`;
const ACRONYM_FOLLOW = `(?:${['About', 'According', 'Additionally', 'After', 'An', 'A', 'As', 'At', 'But', 'Earlier', 'He', 'Her', 'Here', 'However', 'If', 'In', 'It', 'Last', 'Many', 'More', 'Mr.', 'Ms.', 'Now', 'Once', 'One', 'Other', 'Our', 'She', 'Since', 'So', 'Some', 'Such', 'That', 'The', 'Their', 'Then', 'There', 'These', 'They', 'This', 'We', 'When', 'While', 'What', 'Yet', 'You'].map((w) => w[0] + ci(w.slice(1))).join('|')}|${SGML})`;
const PHONE = [
  '\\([0-9]{2,3}\\)[ \\u00A0]?[0-9]{3,4}[\\- \\u00A0]?[0-9]{3,5}',
  '(?:\\+\\+?)?(?:[0-9]{2,4}[\\- \\u00A0])?[0-9]{2,4}[\\- \\u00A0][0-9]{3,4}[\\- \\u00A0]?[0-9]{3,5}',
  '(?:(?:\\+\\+?)?[0-9]{2,4}\\.)?[0-9]{2,4}\\.[0-9]{3,4}\\.[0-9]{3,5}',
];
const FRAC = `(?:${DIGIT}{1,4}[\\- \\u00A0])?${DIGIT}{1,4}(?:\\\\?\\/|\\u2044)${DIGIT}{1,4}`;
const QUOTES = [`[\`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u0091\\u0092\\u0093\\u0094\\u201E\\u201F\\u2039\\u203A\\u00AB\\u00BB]{1,2}`, "''", APOS];
const DBLQUOT = `(?:"|${ci('&quot;')})`;
const INSENTP = '[,;:\\u3001]';
const SMILEY = `[<>]?[:;=][\\-o*']?[()DPdpO\\\\{@|[\\]]`;
const ASIAN_EYE = "[\\-^x=~<>']";
const ASIANSMILEY = [
  `[\\^x=~<>]\\.\\[\\^${ci('x')}=~<>\\]`,
  `${ASIAN_EYE}_${ASIAN_EYE}`,
  `\\(${ASIAN_EYE}[_.]?${ASIAN_EYE}\\)`,
  "\\([\\^x=~<>']-[\\^x=~<>'`]\\)",
];
const MISCSYMBOL =
  '[+%&~^|\\\\\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF\\u00B0-\\u00BA\\u00D7\\u00F7\\u0387\\u05BE\\u05C0\\u05C3\\u05C6\\u05F3\\u05F4\\u0600-\\u0603\\u0606-\\u060A\\u060C\\u0614\\u061B\\u061E\\u066A\\u066D\\u0703-\\u070D\\u07F6-\\u07F8\\u0964\\u0965\\u0E4F\\u1FBD\\u2016\\u2017\\u2020-\\u2023\\u2030-\\u2038\\u203B\\u203E-\\u2042\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u2BFF\\u3012\\u30FB\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]';

// ---- actions ---------------------------------------------------------------------------------------------------
export type Action =
  | { kind: 'token' } // the matched text
  | { kind: 'text'; text: string } // a fixed replacement
  | { kind: 'map'; fn: (s: string) => string }
  | { kind: 'split'; back: number } // emit all but the last `back` characters, rescan those
  | { kind: 'acronym' } // before a sentence-starting word: `I.` → `I` then `.`, `U.S.` → `U.S.` then `.`
  | { kind: 'repeat-period' } // emit the abbreviation with its period, then the period again
  | { kind: 'skip' }
  | { kind: 'newline' };

export interface Rule {
  name: string;
  /** Sticky regex; group 1 is the token, the rest of the match (if any) is trailing context. */
  re: RegExp;
  /** The ASCII characters the rule can start with (undefined: none). Non-ASCII starts try every rule. */
  first: RegExp | undefined;
  action: Action;
}

const normalizeCurrency = (s: string): string =>
  s.replace(/\u00A2/g, 'cents').replace(/\u00A3/g, '#').replace(/[\u0080\u00A4\u20A0\u20AC]/g, '$');
const normalizeFractions = (s: string): string =>
  s.replace(/\u00BC/g, '1/4').replace(/\u00BD/g, '1/2').replace(/\u00BE/g, '3/4').replace(/\u2153/g, '1/3').replace(/\u2154/g, '2/3');
const removeSoftHyphens = (s: string): string => (s.includes('\u00AD') ? s.replace(/\u00AD/g, '') || '-' : s);
const normalizeAmp = (s: string): string => s.replace(/&amp;/gi, '&');
const spacesToNbsp = (s: string): string => s.replace(/ /g, '\u00A0');
const parens = (s: string): string => s.replace(/\(/g, '-LRB-').replace(/\)/g, '-RRB-');
/** The lexer's LaTeX quote normalisation; `left` when the quote probably opens. */
const latexQuotes = (left: boolean) => (s: string): string => {
  let out = left ? s.replace(/&apos;|'/g, '`').replace(/"|&quot;/g, '``') : s.replace(/&apos;|'/g, "'").replace(/"|&quot;/g, "''");
  out = out.replace(/[\u0091\u2018\u201B\u2039]/g, '`').replace(/[\u0092\u2019\u203A]/g, "'");
  return out.replace(/[\u0093\u201C\u00AB]/g, '``').replace(/[\u0094\u201D\u00BB]/g, "''");
};
const tok: Action = { kind: 'token' };
const softHyphens: Action = { kind: 'map', fn: removeSoftHyphens };
const amp: Action = { kind: 'map', fn: normalizeAmp };
const quotes = (left: boolean): Action => ({ kind: 'map', fn: latexQuotes(left) });

export const RULES: Rule[] = [];
/**
 * Adds a rule. A body given as a list of alternatives becomes one rule per alternative (same name and action), so
 * that the scanner's longest-match choice applies between them too (a JavaScript alternation takes the first
 * alternative that matches, not the longest).
 */
function rule(name: string, first: string, body: string | string[], action: Action = tok, trail?: string): void {
  for (const alternative of Array.isArray(body) ? body : [body]) {
    const source = trail ? `(${alternative})(?:${trail})` : `(${alternative})`;
    RULES.push({ name, first: first ? new RegExp(`[${first}]`) : undefined, re: new RegExp(source, 'y'), action });
  }
}

// In the order of the reference lexer (ties go to the earlier rule).
rule('C++', 'cC', `${ci('c')}\\+\\+`);
rule('C#', 'cCfF', `[cCfF]#`);
rule('cannot', 'cC', ci('cannot'), { kind: 'split', back: 3 });
rule("'twas", "'", ci("'twas"), { kind: 'split', back: 3 });
rule("'tis", "'", ci("'tis"), { kind: 'split', back: 2 });
rule('assimilation', 'gGlLwW', alt('gonna', 'gotta', 'lemme', 'gimme', 'wanna'), { kind: 'split', back: 2 });
rule('SGML', '<', SGML, { kind: 'map', fn: spacesToNbsp });
rule('SPMDASH', '&', `&${alt('MD', 'mdash', 'ndash')};|[\\u0096\\u0097\\u2013\\u2014\\u2015]`, { kind: 'text', text: '--' });
rule('SPAMP', '&', SPAMP, amp);
rule('SPPUNC', '&', `&(?:${alt('HT', 'TL', 'UR', 'LR', 'QC', 'QL', 'QR', 'odq', 'cdq')}|#[0-9]+);`);
rule('WORD/REDAUX', 'A-Za-z&', WORD, softHyphens, REDAUX);
rule('SWORD/SREDAUX', 'A-Za-z', SWORD, softHyphens, SREDAUX);
rule('WORD', 'A-Za-z&', WORD, softHyphens);
rule('APOWORD', "A-Za-z'&`", APOWORD);
rule('APOWORD2', 'yY', `${ci('y')}${APOS}`, tok, ULETTER);
rule('FULLURL', 'hH', FULLURL);
// first characters: a URL segment character (not in the excluded set, which holds U+002C..U+005F) or the `W` of `www.`
rule('LIKELYURL', '^ \\t\\n\\f\\r"`\'<>|.!?(){}$\\u002C-\\u0056\\u0058-\\u005F', LIKELYURL);
rule('EMAIL', '&<a-zA-Z0-9', EMAIL);
rule('TWITTER', '@#', TWITTER);
rule('REDAUX/nonletter', "'&", REDAUX, quotes(false), '[^A-Za-z]');
rule('SREDAUX/nonletter', 'nN', SREDAUX, quotes(false), '[^A-Za-z]');
rule('DATE', '0-9', `${DIGIT}{1,2}[\\-\\/]${DIGIT}{1,2}[\\-\\/]${DIGIT}{2,4}`);
rule('NUMBER', '0-9+\\-.:,', `[\\-+]?${NUM}`, softHyphens);
rule('SUBSUPNUM', '', '[\\u207A\\u207B\\u208A\\u208B]?(?:[\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)');
rule('FRAC', '0-9', FRAC, { kind: 'map', fn: spacesToNbsp });
rule('FRAC2', '', '[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]', { kind: 'map', fn: normalizeFractions });
rule('TBSPEC', '\\-cCpPaAsS', `-${alt('RRB', 'LRB', 'RCB', 'LCB', 'RSB', 'LSB')}-|${ci('C.D.s')}|${ci('pro-')}|${ci('anti-')}|${ci('S')}(?:&|${SPAMP})${ci('P-500')}|${ci('S')}(?:&|${SPAMP})${ci('Ls')}|${ci('Cap')}${APOS}${ci('n')}|${ci('c')}${APOS}${ci('est')}`, amp);
rule('THING3', 'A-Za-z0-9', THING3);
rule('DOLSIGN', 'A-Z$#', ['[A-Z]*\\$', '#']);
rule('DOLSIGN2', '', '[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AC\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]', { kind: 'map', fn: normalizeCurrency });
rule('ACRONYM/follow', 'A-Za-z', `${ACRO}\\.`, { kind: 'acronym' }, `${SPACENL}+${ACRONYM_FOLLOW}${SPACENL}`);
rule('ABBREV3/digit', 'A-Za-z', ABBREV3, tok, `${SPACENL}?${UDIGIT}`);
rule('pty./ltd', 'pPcC', `(?:${ci('pt')}[eyEY]|${ci('co')})\\.`, tok, `${SPACE}${alt('ltd', 'lim')}`);
rule('ABBREV1/SENTEND', 'A-Za-z', ABBREV1, { kind: 'repeat-period' }, SENTEND);
rule('ABBREV1/2chars', 'A-Za-z', ABBREV1, tok, '[^][^]');
rule('ABBREV1', 'A-Za-z', ABBREV1, { kind: 'repeat-period' });
rule('ABBREV2', 'A-Za-z', ABBREV4.map((a) => `${a}\\.`));
rule('ABBREV4/SPACE', 'A-Za-z', ABBREV4, tok, SPACE);
rule('ACRO/SPACENL', 'A-Za-z', ACRO, tok, SPACENL);
rule('TBSPEC2/SPACENL', "'&", `${APOS}[0-9][0-9]`, tok, SPACENL);
rule('FILENAME', 'A-Za-z0-9&', FILENAME, tok, `${SPACENL}|[.?!,]`);
rule('WORD./INSENTP', 'A-Za-z&', `${WORD}\\.`, softHyphens, INSENTP);
rule('PHONE', '0-9(+', PHONE, { kind: 'map', fn: (s) => parens(spacesToNbsp(s)) });
rule('DBLQUOT/left', '"&', DBLQUOT, quotes(true), '[A-Za-z0-9$]');
rule('DBLQUOT', '"&', DBLQUOT, quotes(false));
rule('DEL', '\\u007f', '\\u007f', { kind: 'skip' });
rule('LESSTHAN', '<&', `<|${ci('&lt;')}`, { kind: 'text', text: '<' });
rule('GREATERTHAN', '>&', `>|${ci('&gt;')}`, { kind: 'text', text: '>' });
rule('SMILEY', '<>:;=', SMILEY, { kind: 'map', fn: parens }, '[^A-Za-z0-9]');
rule('ASIANSMILEY', "\\^x=~<>'\\-(", ASIANSMILEY, { kind: 'map', fn: parens });
rule('LCB', '{', '\\{', { kind: 'text', text: '-LCB-' });
rule('RCB', '}', '\\}', { kind: 'text', text: '-RCB-' });
rule('LSB', '[', '\\[', { kind: 'text', text: '-LSB-' });
rule('RSB', '\\]', '\\]', { kind: 'text', text: '-RSB-' });
rule('LRB', '(', '\\(', { kind: 'text', text: '-LRB-' });
rule('RRB', ')', '\\)', { kind: 'text', text: '-RRB-' });
rule('HYPHENS', '\\-', '-+', { kind: 'map', fn: (s) => (s.length >= 3 && s.length <= 4 ? '--' : s) });
rule('LDOTS', '.', ['\\.{3,5}', '(?:\\.[ \\u00A0]){2,4}\\.', '[\\u0085\\u2026]'], { kind: 'text', text: '...' });
rule('FNMARKS', '@#_', '@+|#+|_+');
rule('ASTS', '*\\\\', '\\*+|(?:\\\\\\*){1,3}');
rule('INSENTP', ',;:', INSENTP);
rule('QMARKS', '?!', '[?!]+');
rule('PERIODS', '.', '[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA\\u3002]');
rule('EQUALS', '=', '=');
rule('SLASH', '/', '\\/');
rule('HTHING./INSENTP', 'A-Za-z0-9', `${HTHING}\\.`, softHyphens, INSENTP);
rule('HTHING', 'A-Za-z0-9', HTHING, softHyphens);
rule('THING./INSENTP', 'A-Za-z0-9', `${THING}\\.`, tok, INSENTP);
rule('THING', 'A-Za-z0-9', THING);
rule('THINGA./INSENTP', 'A-Z', `${THINGA}\\.`, amp, INSENTP);
rule('THINGA', 'A-Z', THINGA, amp);
rule('QUOTE/left', "'", "'", quotes(true), '[A-Za-z][^ \\t\\n\\r\\u00A0]');
rule('REDAUX', "'&", REDAUX, quotes(false));
rule('SREDAUX', 'nN', SREDAUX, quotes(false));
rule('QUOTES', "'&`", QUOTES, quotes(false));
rule('FAKEDUCKFEET', '<>', '<<|>>');
rule('MISCSYMBOL', '+%&~^|\\\\', MISCSYMBOL);
rule('SPACES', ' \\t\\u0000', `\\u0000|${SPACE}+|[\\u200B\\u200E\\u200F\\uFEFF]`, { kind: 'skip' });
rule('NEWLINE', '\\r\\n\\u000B\\u000C', NEWLINE, { kind: 'newline' });
rule('NBSP-entity', '&', ci('&nbsp;'), { kind: 'skip' });
rule('ANY', '\\s\\S', '[^]', { kind: 'skip' }); // untokenizable characters are deleted

/** An abbreviation that keeps its period before a space (the tokenizer's fast path must not split it). */
export const KEEPS_PERIOD = new RegExp(`^(?:${ABBREV1}|(?:${ABBREV4.join('|')})\\.|${ABBREV3}|(?:${ci('pt')}[eyEY]|${ci('co')})\\.)$`);
