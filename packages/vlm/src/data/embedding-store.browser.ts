import { ConfigurationError } from '@synth2/core';

export type { StoredEmbeddings } from './embedding-store';

function nodeOnly(what: string): Promise<never> {
  return Promise.reject(
    new ConfigurationError(`${what} reads a sharded store and JSONL files from disk, which needs Node; in a browser pass embeddings as arrays.`, {
      setting: 'dir',
    }),
  );
}

/** Browser build: stores are read in Node. */
export const loadEmbeddingStore = (): Promise<never> => nodeOnly('loadEmbeddingStore');
/** Browser build: stores are read in Node. */
export const loadSyntheticPairs = (): Promise<never> => nodeOnly('loadSyntheticPairs');
/** Browser build: stores are read in Node. */
export const loadRealPairs = (): Promise<never> => nodeOnly('loadRealPairs');
