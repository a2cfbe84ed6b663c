/**
 * A port of the behaviour of Stanford CoreNLP 3.4.1's `PTBTokenizer -preserveLines -lowerCase` followed by the
 * punctuation removal of the COCO caption evaluation (pycocoevalcap `PTBTokenizer`).
 *
 * The scanner follows JFlex semantics: at each position every rule is tried, the longest match wins (trailing
 * context counts towards the length, as in lex/JFlex), and ties go to the rule listed first. Literal words are
 * matched case-insensitively (the lexer is `%caseless`) while character classes keep their case.
 */

/** Tokens the COCO evaluation drops after tokenizing. Upper-case brackets never occur after lower-casing. */
const PUNCTUATIONS = new Set([
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
]);

/** Case-insensitive version of a literal (the JFlex `%caseless` option applies to literals only). */
function ci(literal: string): string {
  let out = '';
  for (const ch of literal) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    if (lo !== up) out += `[${lo}${up}]`;
    else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}
const alt = (...words: string[]): string => `(?:${words.map(ci).join('|')})`;

// ---- character classes -------------------------------------------------------------------------------------
const LETTER_CLASS =
  '\\p{L}\\u00AD\\u0237-\\u024F\\u02C2-\\u02C5\\u02D2-\\u02DF\\u02E5-\\u02FF\\u0300-\\u036F\\u0370-\\u037D\\u0384\\u0385\\u03CF\\u03F6\\u03FC-\\u03FF\\u0483-\\u0487\\u04CF\\u04F6-\\u04FF\\u0510-\\u0525\\u055A-\\u055F\\u0591-\\u05BD\\u05BF\\u05C1\\u05C2\\u05C4\\u05C5\\u05C7\\u0615-\\u061A\\u063B-\\u063F\\u064B-\\u065E\\u0670\\u06D6-\\u06EF\\u06FA-\\u06FF\\u070F\\u0711\\u0730-\\u074F\\u0750-\\u077F\\u07A6-\\u07B1\\u07CA-\\u07F5\\u07FA\\u0900-\\u0903\\u093C\\u093E-\\u094E\\u0951-\\u0955\\u0962-\\u0963\\u0981-\\u0983\\u09BC-\\u09C4\\u09C7\\u09C8\\u09CB-\\u09CD\\u09D7\\u09E2\\u09E3\\u0A01-\\u0A03\\u0A3C\\u0A3E-\\u0A4F\\u0A81-\\u0A83\\u0ABC-\\u0ACF\\u0B82\\u0BBE-\\u0BC2\\u0BC6-\\u0BC8\\u0BCA-\\u0BCD\\u0C01-\\u0C03\\u0C3E-\\u0C56\\u0D3E-\\u0D44\\u0D46-\\u0D48\\u0E30-\\u0E3A\\u0E47-\\u0E4E\\u0EB1-\\u0EBC\\u0EC8-\\u0ECD';
const SPLET = `&[aeiouAEIOU]${alt('acute', 'grave', 'uml')};`;
const LETTER = `(?:[${LETTER_CLASS}]|${SPLET})`;
const ULETTER = '\\p{L}'; // JFlex [:letter:]
const DIGIT = '[\\p{Nd}\\u07C0-\\u07C9]';
const LD = `(?:\\p{L}|${DIGIT})`;
const SPACE = '[ \\t\\u00A0\\u2000-\\u200A\\u3000]';
const NEWLINE = '(?:\\r\\n|[\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085])';
const SPACENL = `(?:${SPACE}|${NEWLINE})`;
const SGML = '<\\/?[A-Za-z!?][^>\\r\\n]*>';
const SENTEND = `${SPACENL}(?:${SPACENL}|[A-Z]|${SGML})`;
const APOS = `(?:['\\u0092\\u2019]|${ci('&apos;')})`;
const APOSETC = `(?:${APOS}|[\\u0091\\u2018\\u201B])`;
const HYPHEN = '[-_\\u058A\\u2010\\u2011]';
const NUM = `(?:${DIGIT}*(?:[.:,\\u00AD\\u066B\\u066C]${DIGIT}+)+|${DIGIT}+)`;
const ACRO = `(?:[A-Za-z](?:\\.[A-Za-z])+|${alt('Canada', 'Sino', 'Korean', 'EU', 'Japan', 'non')}-${ci('U.S')}|${ci('U.S.-')}(?:${ci('U.K')}|${ci('U.S.S.R')}))`;
const REDAUX = `${APOS}(?:[msdMSD]|${alt('re', 've', 'll')})`;
const SREDAUX = `${ci('n')}${APOSETC}${ci('t')}`;
const WORD = `${LETTER}(?:${LETTER}|${DIGIT})*(?:[.!?]${LETTER}(?:${LETTER}|${DIGIT})*)*`;
const SWORD = '[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*';
const THING = `(?:[dDoOlL]${APOSETC}${LD})?${LD}+(?:${HYPHEN}(?:[dDoOlL]${APOSETC}${LD})?${LD}+)*`;
const THINGA = `[A-Z]+(?:(?:[+&]|${ci('&amp;')})[A-Z]+)+`;
const THING3 = '[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?\\/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}';
const HTHING = `[A-Za-z0-9][A-Za-z0-9.,\\u00AD]*(?:-(?:[A-Za-z0-9\\u00AD]+|${ACRO}\\.))+`;
const APOWORD = [
  `${APOS}${ci('n')}${APOS}?`,
  `[lLdDjJ]${APOS}`,
  `${ci('Dunkin')}${APOS}`,
  `${ci('somethin')}${APOS}`,
  `${ci('ol')}${APOS}`,
  `${APOS}${ci('em')}`,
  `[A-HJ-XZn]${APOSETC}${ULETTER}{2}${ULETTER}*`,
  `${APOS}[2-9]0${ci('s')}`,
  `${APOS}${ci('til')}${ci('l')}?`,
  `${ULETTER}${ULETTER}*[aeiouyAEIOUY]${APOSETC}[aeiouA-Z]${ULETTER}*`,
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
].join('|');
const FULLURL = `${ci('http')}${ci('s')}?:\\/\\/[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},-]`;
const LIKELYURL = `(?:(?:${ci('www.')}(?:[^ \\t\\n\\f\\r"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4})|(?:(?:[^ \\t\\n\\f\\r"\`'<>|.!?(){},\\-_$]+\\.)+${alt('com', 'net', 'org', 'edu')}))(?:\\/[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},-])?`;
const EMAIL = '[a-zA-Z0-9][^ \\t\\n\\f\\r"<>|()\\u00A0]*@(?:[^ \\t\\n\\f\\r"<>|().\\u00A0]+\\.)+[a-zA-Z]{2,4}';
const ABMONTH = alt('Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct', 'Nov', 'Dec');
const ABDAYS = alt('Mon', 'Tue', 'Tues', 'Wed', 'Thu', 'Thurs', 'Fri');
const ABSTATE = `(?:${alt('Ala', 'Ariz')}|A${ci('rk')}|${alt('Calif', 'Colo', 'Conn', 'Dak', 'Del', 'Fla', 'Ga')}|I${ci('ll')}|${alt('Ind', 'Kans', 'Kan', 'Ky', 'La')}|M${ci('ass')}|${alt('Md', 'Mich', 'Minn')}|M${ci('iss')}|${alt('Mo', 'Mont', 'Neb', 'Nev', 'Okla')}|O${ci('re')}|${alt('Pa', 'Penn', 'Tenn', 'Tex', 'Va', 'Vt')}|W${ci('ash')}|${alt('Wisc', 'Wis', 'Wyo')})`;
const ABCOMP = alt('Inc', 'Cos', 'Co', 'Corp', 'Pptys', 'Ppty', 'Ptys', 'Pty', 'Ltd', 'Plc', 'Bancorp', 'Dept', 'Bhd', 'Assn', 'Univ', 'Intl', 'Sys');
const ABCOMP2 = alt('Invt', 'Elec', 'Natl', 'Mfg', 'Mtg');
const ABNUM = alt('Nos', 'No', 'Prop', 'Ph', 'tel', 'est', 'ext', 'sq', 'ft');
const ABPTIT = `(?:${alt('Jr', 'Sr', 'Bros')}|${alt('Ed', 'Ph')}${ci('.D')}|${alt('Blvd', 'Rd', 'Esq')})`;
const ABBREV1 = `(?:${ABMONTH}|${ABDAYS}|${ABSTATE}|${ABCOMP}|${ABNUM}|${ABPTIT}|${alt('etc', 'al', 'seq')})\\.`;
const ABTITLE = `(?:${alt('Mrs', 'Mr', 'Ms')}|M${ci('iss')}|${alt('Drs', 'Dr', 'Profs', 'Prof', 'Sens', 'Sen', 'Reps', 'Rep', 'Attys', 'Atty', 'Lt', 'Col', 'Gen', 'Messrs', 'Govs', 'Gov', 'Adm', 'Rev', 'Maj', 'Sgt', 'Cpl', 'Pvt', 'Mt', 'Capt', 'Ste', 'St', 'Ave', 'Pres', 'Lieut', 'Hon', 'Brig', 'Comdr', 'Cmdr', 'Pfc', 'Spc', 'Supts', 'Supt', 'Det')})`;
const ABBREV4 = `(?:${ABTITLE}|${alt('vs', 'Alex', 'Wm', 'Jos', 'Cie', 'a.k.a', 'cf', 'TREAS')}|${ACRO}|${ABCOMP2}|[A-Za-z])`;
const ACRONYM_FOLLOW = `(?:${['About', 'According', 'Additionally', 'After', 'An', 'A', 'As', 'At', 'But', 'Earlier', 'He', 'Her', 'Here', 'However', 'If', 'In', 'It', 'Last', 'Many', 'More', 'Mr.', 'Ms.', 'Now', 'Once', 'One', 'Other', 'Our', 'She', 'Since', 'So', 'Some', 'Such', 'That', 'The', 'Then', 'There', 'These', 'They', 'This', 'We', 'When', 'While', 'What', 'Yet', 'You'].map((w) => w[0] + ci(w.slice(1))).join('|')})`;
const PHONE = `(?:\\([0-9]{3}\\)[ \\u00A0]?|[0-9]{3}[- \\u00A0.])[0-9]{3}[- \\u00A0.][0-9]{4}`;
const FRAC = `(?:${DIGIT}{1,4}[- \\u00A0])?${DIGIT}{1,4}(?:\\\\?\\/|\\u2044)${DIGIT}{1,4}`;
const QUOTES = `(?:${APOS}|''|[\`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u0091\\u0092\\u0093\\u0094\\u201E\\u201F\\u2039\\u203A\\u00AB\\u00BB]{1,2})`;
const DBLQUOT = `(?:"|${ci('&quot;')})`;
const INSENTP = '[,;:]';
const MISCSYMBOL =
  '[\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF\\u00B0-\\u00BA\\u00D7\\u00F7\\u0387\\u05BE\\u05C0\\u05C3\\u05C6\\u05F3\\u05F4\\u0600-\\u0603\\u0606-\\u060A\\u060C\\u0614\\u061B\\u061E\\u066A\\u066D\\u0703-\\u070D\\u07F6-\\u07F8\\u0964\\u0965\\u0E4F\\u2020-\\u2023\\u2032-\\u2038\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u22FF\\u2300-\\u23FF\\u2600-\\u26FF\\u3012\\u30FB\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]';

// ---- rules --------------------------------------------------------------------------------------------------
type Action =
  | { kind: 'token' } // the matched text
  | { kind: 'text'; text: string } // a fixed replacement
  | { kind: 'map'; fn: (s: string) => string }
  | { kind: 'pushback'; keep: number } // emit only the first `keep` characters, rescan the rest
  | { kind: 'acronym' } // emit the acronym (a single letter without its period); rescan the period
  | { kind: 'skip' }
  | { kind: 'newline' };

interface Rule {
  name: string;
  /** Sticky regex; group 1 is the token, the rest of the match (if any) is trailing context. */
  re: RegExp;
  first: RegExp | undefined;
  action: Action;
}

const rules: Rule[] = [];
/** `first`: a character-class body covering every ASCII character the rule can start with ('' = none). */
function rule(name: string, first: string, body: string, action: Action = { kind: 'token' }, trail?: string): void {
  const source = trail ? `(${body})(?:${trail})` : `(${body})`;
  rules.push({ name, first: first ? new RegExp(`[${first}]`) : undefined, re: new RegExp(source, 'uy'), action });
}

const normalizeCurrency = (s: string): string =>
  s.replace(/\u00A2/g, 'cents').replace(/\u00A3/g, '#').replace(/[\u0080\u00A4\u20A0\u20AC]/g, '$');
const normalizeFractions = (s: string): string =>
  s.replace(/\u00BC/g, '1/4').replace(/\u00BD/g, '1/2').replace(/\u00BE/g, '3/4').replace(/\u2153/g, '1/3').replace(/\u2154/g, '2/3');
const removeSoftHyphens = (s: string): string => s.replace(/\u00AD/g, '');
const normalizeAmp = (s: string): string => s.replace(/&amp;/gi, '&');
const nbsp = (s: string): string => s.replace(/ /g, '\u00A0');
const latexQuotes = (left: boolean) => (s: string): string => {
  let out = left ? s.replace(/&apos;|'/gi, '`').replace(/"|&quot;/gi, '``') : s.replace(/&apos;|'/gi, "'").replace(/"|&quot;/gi, "''");
  out = out.replace(/[\u0091\u2018\u201B\u2039]/g, '`').replace(/[\u0092\u2019\u203A]/g, "'");
  return out.replace(/[\u0093\u201C\u00AB]/g, '``').replace(/[\u0094\u201D\u00BB]/g, "''");
};
const tok: Action = { kind: 'token' };
const softHyphens: Action = { kind: 'map', fn: removeSoftHyphens };

rule('cannot', 'cC', ci('cannot'), { kind: 'pushback', keep: 3 });
// assimilations: gonna -> gon na, gotta -> got ta, wanna -> wan na, lemme -> lem me, gimme -> gim me
rule('ASSIMILATIONS', 'gGwWlL', alt('gonna', 'gotta', 'wanna', 'lemme', 'gimme'), { kind: 'pushback', keep: 3 });
rule('SGML', '<', SGML);
rule('SPMDASH', '&', `&${alt('MD', 'mdash', 'ndash')};|[\\u0096\\u0097\\u2013\\u2014\\u2015]`, { kind: 'text', text: '--' });
rule('SPAMP', '&', ci('&amp;'), { kind: 'map', fn: normalizeAmp });
rule('SPPUNC', '&', `&(?:${alt('HT', 'TL', 'UR', 'LR', 'QC', 'QL', 'QR', 'odq', 'cdq')}|#[0-9]+);`);
rule('WORD/REDAUX', 'A-Za-z&', WORD, softHyphens, REDAUX);
rule('SWORD/SREDAUX', 'A-Za-z', SWORD, softHyphens, SREDAUX);
rule('WORD', 'A-Za-z&', WORD, softHyphens);
rule('APOWORD', "A-Za-z'&", APOWORD);
rule('APOWORD2', 'yY', `${ci('y')}${APOS}`, tok, ULETTER);
rule('FULLURL', 'hH', FULLURL);
rule('LIKELYURL', "^ \\t\\n\\f\\r\"`'<>|.!?(){},\\-_$", LIKELYURL);
rule('EMAIL', 'A-Za-z0-9', EMAIL);
rule('TWITTER', '@#', `@[a-zA-Z_][a-zA-Z_0-9]*|#${WORD}`);
rule('REDAUX/nonletter', "'&", REDAUX, { kind: 'map', fn: latexQuotes(false) }, '[^A-Za-z]');
rule('SREDAUX', 'nN', SREDAUX, { kind: 'map', fn: latexQuotes(false) });
rule('DATE', '0-9', `${DIGIT}{1,2}[\\-\\/]${DIGIT}{1,2}[\\-\\/]${DIGIT}{2,4}`);
rule('NUMBER', '0-9+\\-.:,', `[\\-+]?${NUM}`, softHyphens);
rule('SUBSUPNUM', '', '[\\u207A\\u207B\\u208A\\u208B]?(?:[\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)');
rule('FRAC', '0-9', FRAC, { kind: 'map', fn: nbsp });
rule('FRAC2', '', '[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]', { kind: 'map', fn: normalizeFractions });
rule('TBSPEC', '\\-cCpPaAsS', `-${alt('RRB', 'LRB', 'RCB', 'LCB', 'RSB', 'LSB')}-|${ci('C.D.s')}|${ci('pro-')}|${ci('anti-')}|${ci('S')}(?:&|${ci('&amp;')})${ci('P-500')}|${ci('S')}(?:&|${ci('&amp;')})${ci('Ls')}|${ci('Cap')}${APOS}${ci('n')}|${ci('c')}${APOS}${ci('est')}`, { kind: 'map', fn: normalizeAmp });
rule('THING3', 'A-Za-z0-9', THING3);
rule('DOLSIGN', 'A-Z$#', '[A-Z]*\\$|#');
rule('DOLSIGN2', '', '[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AC\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]', { kind: 'map', fn: normalizeCurrency });
// An acronym or a single letter with its period, before a word that usually starts a sentence: a single letter
// loses its period (`lying I. The` -> `I` `.`), a longer acronym keeps it and the period is repeated.
rule('ACRONYM/follow', 'A-Za-z', `(?:${ACRO}|[A-Za-z])\\.`, { kind: 'acronym' }, `${SPACENL}+${ACRONYM_FOLLOW}${SPACENL}`);
rule('ABBREV1/SENTEND', 'A-Za-z', ABBREV1, tok, SENTEND);
rule('ABBREV1', 'A-Za-z', ABBREV1);
rule('ABBREV2', 'A-Za-z', `${ABBREV4}\\.`);
rule('ABBREV4/SPACE', 'A-Za-z', ABBREV4, tok, SPACE);
rule('ACRO/SPACENL', 'A-Za-z', ACRO, tok, SPACENL);
rule('TBSPEC2/SPACENL', "'&", `${APOS}[0-9][0-9]`, tok, SPACENL);
rule('WORD./INSENTP', 'A-Za-z&', `${WORD}\\.`, softHyphens, INSENTP);
rule('PHONE', '0-9(', PHONE, { kind: 'map', fn: (s) => nbsp(s).replace(/\(/g, '-LRB-').replace(/\)/g, '-RRB-') });
rule('DBLQUOT/left', '"&', DBLQUOT, { kind: 'map', fn: latexQuotes(true) }, '[A-Za-z0-9$]');
rule('DBLQUOT', '"&', DBLQUOT, { kind: 'map', fn: latexQuotes(false) });
rule('plus', '+', '\\+');
rule('percent-amp', '%&', '[%&\\u2030\\u2031]');
rule('tilde-caret', '~^', '~|\\^');
rule('bar-backslash', '|\\\\0', `\\||\\\\|${ci('0x7f')}`, { kind: 'skip' });
rule('LESSTHAN', '<&', `<|${ci('&lt;')}`, { kind: 'text', text: '<' });
rule('GREATERTHAN', '>&', `>|${ci('&gt;')}`, { kind: 'text', text: '>' });
rule('LSB', '[', '\\[', { kind: 'text', text: '-LSB-' });
rule('RSB', '\\]', '\\]', { kind: 'text', text: '-RSB-' });
rule('LCB', '{', '\\{', { kind: 'text', text: '-LCB-' });
rule('RCB', '}', '\\}', { kind: 'text', text: '-RCB-' });
rule('LRB', '(', '\\(', { kind: 'text', text: '-LRB-' });
rule('RRB', ')', '\\)', { kind: 'text', text: '-RRB-' });
rule('HYPHENS', '\\-', '-+', { kind: 'map', fn: (s) => (s.length >= 3 && s.length <= 4 ? '--' : s) });
rule('LDOTS', '.', '\\.{3,5}|(?:\\.[ \\u00A0]){2,4}\\.|[\\u0085\\u2026]', { kind: 'text', text: '...' });
rule('FNMARKS', '@#_', '@+|#+|_+');
rule('ASTS', '*\\\\', '\\*+|(?:\\\\\\*){1,3}');
rule('INSENTP', ',;:', INSENTP);
rule('QMARKS', '?!', '[?!]+');
rule('PERIODS', '.', '[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA]');
rule('EQUALS', '=', '=');
rule('SLASH', '/', '\\/');
rule('HTHING./INSENTP', 'A-Za-z0-9', `${HTHING}\\.`, softHyphens, INSENTP);
rule('HTHING', 'A-Za-z0-9', HTHING, softHyphens);
rule('THING./INSENTP', 'A-Za-z0-9', `${THING}\\.`, tok, INSENTP);
rule('THING', 'A-Za-z0-9', THING);
rule('THINGA./INSENTP', 'A-Z', `${THINGA}\\.`, { kind: 'map', fn: normalizeAmp }, INSENTP);
rule('THINGA', 'A-Z', THINGA, { kind: 'map', fn: normalizeAmp });
rule('QUOTE/left', "'", "'", { kind: 'map', fn: latexQuotes(true) }, '[A-Za-z][^ \\t\\n\\r\\u00A0]');
rule('REDAUX', "'&", REDAUX, { kind: 'map', fn: latexQuotes(false) });
rule('QUOTES', "'&`", QUOTES, { kind: 'map', fn: latexQuotes(false) });
rule('MISCSYMBOL', '', MISCSYMBOL);
rule('SPACES', ' \\t\\0&', `\\u0000|${SPACE}+|[\\u200B\\u200E\\u200F\\uFEFF]|${ci('&nbsp;')}`, { kind: 'skip' });
rule('NEWLINE', '\\r\\n\\v\\f', NEWLINE, { kind: 'newline' });
rule('ANY', '\\s\\S', '[^]', { kind: 'skip' }); // untokenizable characters are deleted

// Rules grouped by the first (ASCII) character they can start with, so that most rules are never tried.
const ASCII_CANDIDATES: Rule[][] = [];
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CANDIDATES.push(rules.filter((r) => r.first !== undefined && r.first.test(ch)));
}

const LETTER_RUN = /[A-Za-z]+/y;
/** Words that the rules split (the fast path must not take them). */
const PUSHBACK_WORDS = new Set(['cannot', 'gonna', 'gotta', 'wanna', 'lemme', 'gimme']);
const ABBREVIATION = new RegExp(`^(?:${ABBREV1}|${ABBREV4}\\.)$`, 'u');

function isSpaceOrNl(c: number): boolean {
  return c === 32 || c === 10 || Number.isNaN(c);
}

/**
 * Lexes a stream of lines (joined by `\n`) into PTB tokens per line (before lower-casing and punctuation
 * removal), exactly as the reference lexes its one-caption-per-line input file.
 */
function lexStream(input: string, lines: string[][]): void {
  const end = input.length;
  let line: string[] = [];
  lines.push(line);
  let pos = 0;
  while (pos < end) {
    const c = input.charCodeAt(pos);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      // Fast paths, each provably equal to the full rule set:
      // - an ASCII letter run followed by a space, a newline or the end is a WORD (except `cannot`);
      // - followed by `.` and then a space/newline/end, it is a WORD then `.` unless it is a known abbreviation.
      LETTER_RUN.lastIndex = pos;
      LETTER_RUN.test(input);
      const stop = LETTER_RUN.lastIndex;
      const next = input.charCodeAt(stop);
      const splits = (stop - pos === 6 || stop - pos === 5) && PUSHBACK_WORDS.has(input.slice(pos, stop).toLowerCase());
      if (!splits) {
        if (isSpaceOrNl(next)) {
          line.push(input.slice(pos, stop));
          pos = stop;
          continue;
        }
        if (next === 44 && isSpaceOrNl(input.charCodeAt(stop + 1))) {
          // `word, `: no rule can reach past the comma and the following space (HTHING needs a hyphen, EMAIL an @,
          // LIKELYURL and the abbreviation rules a period); a comma before a space is INSENTP.
          line.push(input.slice(pos, stop), ',');
          pos = stop + 1;
          continue;
        }
        if (next === 46 && isSpaceOrNl(input.charCodeAt(stop + 1)) && stop - pos > 1) {
          const run = input.slice(pos, stop);
          if (!ABBREVIATION.test(`${run}.`)) {
            line.push(run, '.');
            pos = stop + 1;
            continue;
          }
        }
      }
    } else if (c === 32) {
      pos++;
      continue;
    } else if (c === 10) {
      line = [];
      lines.push(line);
      pos++;
      continue;
    }
    const candidates = c < 128 ? ASCII_CANDIDATES[c] : rules;
    let best: Rule | undefined;
    let bestLen = 0;
    let bestTok = '';
    for (const r of candidates) {
      r.re.lastIndex = pos;
      const m = r.re.exec(input);
      if (m && m[0].length > bestLen) {
        best = r;
        bestLen = m[0].length;
        bestTok = m[1];
      }
    }
    if (!best) {
      pos++;
      continue;
    }
    const a = best.action;
    switch (a.kind) {
      case 'token':
        line.push(bestTok);
        break;
      case 'text':
        line.push(a.text);
        break;
      case 'map':
        line.push(a.fn(bestTok));
        break;
      case 'pushback':
        line.push(bestTok.slice(0, a.keep));
        pos += a.keep;
        continue;
      case 'acronym':
        line.push(bestTok.length === 2 ? bestTok[0] : bestTok);
        pos += bestTok.length - 1;
        continue;
      case 'newline':
        line = [];
        lines.push(line);
        break;
      case 'skip':
        break;
    }
    // Tokens consume only their own text; trailing context is scanned again.
    pos += bestTok.length;
  }
}

// eslint-disable-next-line no-control-regex -- these control characters are whitespace/line breaks to the reference
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\u000B\u000C\u0085]/g;

/**
 * Tokenizes captions exactly like the COCO caption evaluation: PTB tokenization (CoreNLP 3.4.1,
 * `-preserveLines -lowerCase`) of all captions as one file with one caption per line, then the tokens
 * `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;` are dropped and the rest joined by single spaces.
 * One output string per input caption. Pass all captions of one side (references, or candidates) in one call,
 * in evaluation order, as the reference does: a caption's end can depend on the first character of the next.
 *
 * Deviation: a line break inside a caption (`\n`, and also `\r`, U+2028, U+2029, U+000B, U+000C, U+0085, which the
 * reference would treat as extra lines and so misalign every later caption) is replaced by a space.
 */
export function ptbTokenize(captions: readonly string[]): string[] {
  return ptbTokenizeWords(captions).map((words) => words.join(' '));
}

/** Like `ptbTokenize`, but each caption's tokens as an array (an empty array for an empty result). */
export function ptbTokenizeWords(captions: readonly string[]): string[][] {
  if (captions.length === 0) return [];
  const parts = new Array<string>(captions.length);
  for (let i = 0; i < captions.length; i++) parts[i] = captions[i].replace(LINE_BREAKS, ' ');
  const lines: string[][] = [];
  lexStream(parts.join('\n'), lines);
  const result = new Array<string[]>(captions.length);
  for (let i = 0; i < captions.length; i++) {
    const line = lines[i];
    let w = 0;
    for (let j = 0; j < line.length; j++) {
      const lower = line[j].toLowerCase();
      if (!PUNCTUATIONS.has(lower)) line[w++] = lower;
    }
    line.length = w;
    result[i] = line;
  }
  return result;
}

/** The raw PTB tokens of one caption (not lower-cased, punctuation kept): for debugging and tests. */
export function ptbTokens(caption: string): string[] {
  const lines: string[][] = [];
  lexStream(caption.replace(LINE_BREAKS, ' '), lines);
  return lines[0];
}
