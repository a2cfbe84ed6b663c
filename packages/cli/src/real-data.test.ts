import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFolderFormat } from './real-data';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'synth2-layout-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('detectFolderFormat', () => {
  it('should read Flickr-style, COCO-format and JSONL-manifest layouts', () => {
    expect(detectFolderFormat(folder({ 'captions.csv': 'image,caption\n' })).format).toBe('flickr');
    expect(detectFolderFormat(folder({ 'annotations/captions_val2017.json': '{}' })).format).toBe('coco');
    expect(detectFolderFormat(folder({ 'captions.json': '{}' })).format).toBe('coco');
    const jsonl = folder({ 'index.jsonl': '{"file":"a.jpg","captions":["a dog"]}\n' });
    expect(detectFolderFormat(jsonl)).toEqual({ format: 'jsonl', path: join(jsonl, 'index.jsonl') });
    expect(detectFolderFormat(join(jsonl, 'index.jsonl'))).toEqual({ format: 'jsonl', path: join(jsonl, 'index.jsonl') });
  });

  it('should refuse what it cannot read, naming data.source and the layouts', () => {
    const empty = folder({ 'notes.md': 'x' });
    expect(() => detectFolderFormat(empty)).toThrow(/data\.source ".*" holds no captions file it can read\. Give "shapes" or a Flickr-style folder/);
    expect(() => detectFolderFormat(join(empty, 'missing'))).toThrow(/neither "shapes" nor an existing file or folder/);
    expect(() => detectFolderFormat(join(empty, 'notes.md'))).toThrow(/is a file but not a \.jsonl manifest/);
    const two = folder({ 'a.jsonl': '', 'b.jsonl': '' });
    expect(() => detectFolderFormat(two)).toThrow(/several \.jsonl files \(a\.jsonl, b\.jsonl\); name one of them/);
  });
});
