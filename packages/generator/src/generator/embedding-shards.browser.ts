import { ConfigurationError } from '@synth2/core';

export type { WriteEmbeddingShardsOptions, EmbeddingRecord } from './embedding-shards';

/** Browser build: an embedding store is a folder of files; write it in Node. */
export async function writeEmbeddingShards(): Promise<never> {
  throw new ConfigurationError(
    'writeEmbeddingShards writes a sharded store to disk, which needs Node; in a browser use generateEmbeddings and keep the tensors.',
    { setting: 'dir' },
  );
}
