import { describe, expect, it } from 'vitest';
import { ptbTokenize, ptbTokens } from './ptb-tokenizer';

const tok = (s: string): string => ptbTokenize([s])[0];

describe('ptbTokenize', () => {
  it('should lower-case, split punctuation off and drop it', () => {
    expect(tok('A man riding a horse, on the beach.')).toBe('a man riding a horse on the beach');
    expect(tok('Is it? Yes! No; maybe: so - there -- ...')).toBe('is it yes no maybe so there');
  });
  it('should split clitics like CoreNLP', () => {
    expect(tok("The dog's bone isn't here, they're gone")).toBe("the dog 's bone is n't here they 're gone");
    expect(tok("I can't, I cannot, gonna")).toBe("i ca n't i can not gon na");
    expect(ptbTokenize(['we cannot.', 'Gonna, wanna', 'gotta'])).toEqual(['we can not', 'gon na wan na', 'got ta']);
    expect(tok("an o'clock tree'd")).toBe("an o'clock tree 'd");
  });
  it('should turn quotes into `` and \'\' and drop them', () => {
    expect(ptbTokens('say "hi" now')).toEqual(['say', '``', 'hi', "''", 'now']);
    expect(tok("a 'walk' sign, 6\" long")).toBe('a walk sign 6 long');
  });
  it('should keep brackets as lower-cased -lrb- -rrb- -lsb- -rsb- -lcb- -rcb-', () => {
    expect(tok('a (red) [big] {cat}')).toBe('a -lrb- red -rrb- -lsb- big -rsb- -lcb- cat -rcb-');
  });
  it('should keep symbols and multi-character punctuation the reference keeps', () => {
    expect(tok('wow!!! what?! 50% # $ & @home <an> * + =')).toBe('wow !!! what ?! 50 % # $ & @home <an> * + =');
  });
  it('should keep numbers, times, acronyms, hyphenated and slashed words whole', () => {
    expect(tok('3,000 people at 10:30 a.m. in the U.S. e-mail and/or a/b')).toBe('3,000 people at 10:30 a.m. in the u.s. e-mail and/or a/b');
  });
  it('should normalise currency, fractions, entities and ellipses', () => {
    expect(tok('50¢ £5 €5 ½ cup &amp; more… done')).toBe('50 cents # 5 $ 5 1/2 cup & more done');
  });
  it('should put a non-breaking space inside a spaced fraction', () => {
    expect(tok('1 1/2 cups')).toBe('1\u00a01/2 cups');
  });
  it('should not americanize, and keep accents while deleting emoji', () => {
    expect(tok('the colour of the café 😀 naïve')).toBe('the colour of the café naïve');
  });
  it('should give an empty string for a caption of punctuation only', () => {
    expect(ptbTokenize(['...', '!', 'a dog'])).toEqual(['', '', 'a dog']);
  });
  it('should split a single-letter abbreviation before a sentence-starting word, also across lines', () => {
    expect(ptbTokenize(['a cat lying I. The step', 'the new Wii U.', 'A dog', 'corner of N. Astor'])).toEqual([
      'a cat lying i the step',
      'the new wii u',
      'a dog',
      'corner of n. astor',
    ]);
  });
  it('should replace line breaks inside a caption by spaces so that lines never shift', () => {
    expect(ptbTokenize(['a dog\non grass', 'a cat\r\nsleeps\u2028now', 'end'])).toEqual(['a dog on grass', 'a cat sleeps now', 'end']);
  });
  it('should return an empty array for no captions', () => {
    expect(ptbTokenize([])).toEqual([]);
  });
});
