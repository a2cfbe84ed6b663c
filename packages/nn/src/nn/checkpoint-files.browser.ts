import { ConfigurationError, fetchBytes, fetchText, parseSafetensors, type SafetensorsFile } from '@synth2/core';

/** Browser build: a checkpoint "directory" is a URL (absolute, or relative to the page); its files are fetched. */
export const joinPath = (dir: string, name: string): string => `${dir.replace(/\/+$/, '')}/${name}`;

/** Browser build: nothing to check before the fetch, whose error names the URL and the HTTP status. */
export async function requireFile(): Promise<void> {}

export const readText = (url: string): Promise<string> => fetchText(url, 'checkpoint file');

export async function readTensors(url: string): Promise<SafetensorsFile> {
  return parseSafetensors(await fetchBytes(url, 'checkpoint weights'), { file: url });
}

function noFileSystem(path: string): Promise<never> {
  return Promise.reject(
    new ConfigurationError(`cannot write ${path}: saving checkpoints needs Node's file system; save in Node and load the checkpoint here from its URL.`, {
      setting: 'checkpointDir',
    }),
  );
}

export const writeTensors = (path: string): Promise<void> => noFileSystem(path);

export const writeText = (path: string): Promise<void> => noFileSystem(path);
