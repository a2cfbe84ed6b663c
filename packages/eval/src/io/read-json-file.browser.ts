import { needsNode } from '../util/needs-node';

/** Browser build: there is no file system; parse the text you fetched with JSON.parse and pass the objects. */
export async function readJsonFile(): Promise<never> {
  throw needsNode(
    'readJsonFile (reading a file from disk)',
    'fetch the file, JSON.parse it and pass the objects to evaluateCaptions.',
  );
}

export async function readJsonFileTimed(): Promise<never> {
  return readJsonFile();
}
