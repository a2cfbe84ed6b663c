import { InvalidInputError } from '../errors';
import { fetchText } from '../io/fetch-bytes';

/** Reads a vocabulary file's text (browser: `path` is a URL, fetched). */
export async function readVocabularyText(path: string): Promise<string> {
  return fetchText(path, 'vocabulary file');
}

/** Browsers have no file system to save to. */
export async function writeVocabularyJson(path: string): Promise<void> {
  throw new InvalidInputError(
    'Vocabulary.save writes a file, which a browser cannot do; call toJSON() and store or download the result instead.',
    { file: path },
  );
}
