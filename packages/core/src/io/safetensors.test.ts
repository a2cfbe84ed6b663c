import { spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors';
import { hasPython } from '../test/python';
import { makeTmpDir } from '../test/tmp-dir';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16';
import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
  type TensorToWrite,
} from './safetensors';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(pkg, '__fixtures__');
const script = join(pkg, 'scripts', 'safetensors-interop.py');
const python = hasPython(['numpy']);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTmpDir()));
afterEach(() => cleanup());

const sample = (): Record<string, TensorToWrite> => ({
  w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -1e30]) },
  h: { dtype: 'F16', shape: [3], data: new Float32Array([0.5, -1.25, 1000]) },
  ids: { dtype: 'I32', shape: [2, 2], data: new Int32Array([-1, 2, 2147483647, -2147483648]) },
  codes: { dtype: 'U16', shape: [1, 3], data: new Uint16Array([0, 513, 65535]) },
  mask: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 1, 0, 255]) },
  s: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
  empty: { dtype: 'I32', shape: [0, 4], data: new Int32Array(0) },
});

describe('writeSafetensors / readSafetensors', () => {
  it('should round-trip every dtype, scalars, empty tensors and metadata', async () => {
    const file = join(dir, 'm.safetensors');
    await writeSafetensors(file, sample(), { kind: 'test', note: 'ü' });
    const back = await readSafetensors(file);
    expect(back.metadata).toEqual({ kind: 'test', note: 'ü' });
    const src = sample();
    for (const [name, t] of Object.entries(src)) {
      expect(back.tensors[name].dtype).toBe(t.dtype);
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
    }
    expect(back.tensors.h.data).toBeInstanceOf(Float32Array);
  });

  it('should lay the file out as the spec says (8-byte LE length, padded JSON header, aligned data)', async () => {
    const file = join(dir, 'm.safetensors');
    await writeSafetensors(file, sample());
    const bytes = await readFile(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header.__metadata__).toBeUndefined();
    let end = 0;
    for (const [, e] of Object.entries<{ dtype: string; data_offsets: [number, number] }>(header)) {
      const size = { F32: 4, F16: 2, I32: 4, U16: 2, U8: 1 }[e.dtype]!;
      expect(e.data_offsets[0] % size).toBe(0);
      end = Math.max(end, e.data_offsets[1]);
    }
    expect(8 + n + end).toBe(bytes.length);
    const h = await readSafetensorsHeader(file);
    expect(h.tensors.w).toEqual({ dtype: 'F32', shape: [2, 3], dataOffsets: header.w.data_offsets });
    expect(h.dataStart).toBe(8 + n);
  });

  it('should accept raw F16 bits and convert halves exactly', () => {
    for (const v of [0, -0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity]) {
      expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBe(v);
    }
    expect(float16BitsToFloat32(float32ToFloat16Bits(70000))).toBe(Infinity);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
    expect(float16BitsToFloat32(float32ToFloat16Bits(1 + 2 ** -11))).toBe(1); // tie to even
    expect(float16BitsToFloat32(float32ToFloat16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    const chunks = serializeSafetensors({
      x: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
    });
    const buf = Buffer.concat(chunks);
    expect(Array.from(parseSafetensors(buf).tensors.x.data)).toEqual([1, -2]);
  });

  it('should decode only the requested tensors and name a missing one', async () => {
    const buf = Buffer.concat(serializeSafetensors(sample()));
    expect(Object.keys(parseSafetensors(buf, { names: ['w'] }).tensors)).toEqual(['w']);
    expect(() => parseSafetensors(buf, { names: ['nope'] })).toThrow(/tensor "nope" is not in the file/);
  });
});

describe('writeSafetensors bad input', () => {
  const cases: [string, Record<string, TensorToWrite>, RegExp][] = [
    [
      'unknown dtype',
      { x: { dtype: 'BF16' as 'F32', shape: [1], data: new Float32Array(1) } },
      /field "x\.dtype": unknown dtype "BF16"/,
    ],
    [
      'wrong element count',
      { x: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } },
      /needs 4 elements but data has 3/,
    ],
    [
      'wrong array type',
      { x: { dtype: 'I32', shape: [1], data: new Float32Array(1) } },
      /I32 needs data as Int32Array, got Float32Array/,
    ],
    [
      'bad shape',
      { x: { dtype: 'F32', shape: [-1], data: new Float32Array(1) } },
      /shape must be an array of non-negative integers/,
    ],
    [
      'reserved name',
      { __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } },
      /cannot be a tensor name/,
    ],
  ];
  for (const [what, tensors, message] of cases) {
    it(`should reject ${what} and write no file`, async () => {
      const file = join(dir, 'bad.safetensors');
      const error = await writeSafetensors(file, tensors).catch((e) => e);
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(message);
      expect(await readdir(dir)).toEqual([]);
    });
  }
  it('should reject non-string metadata', async () => {
    await expect(
      writeSafetensors(join(dir, 'm.safetensors'), {}, { n: 3 as unknown as string }),
    ).rejects.toThrow(/__metadata__\.n.*must be a string/);
  });
});

describe('readSafetensors bad input', () => {
  async function corrupt(name: string, bytes: Uint8Array): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, bytes);
    return file;
  }
  function withHeader(header: unknown, dataBytes = 0): Buffer {
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]);
  }

  it('should name a missing file', async () => {
    await expect(readSafetensors(join(dir, 'none.safetensors'))).rejects.toThrow(
      /none\.safetensors: safetensors file not found/,
    );
  });

  it('should report a file truncated inside the data', async () => {
    const full = Buffer.concat(serializeSafetensors(sample()));
    const file = await corrupt('t.safetensors', full.subarray(0, full.length - 3));
    const error = await readSafetensors(file).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /t\.safetensors, field ".*": data_offsets \[\d+, \d+\] are out of range.*truncated/,
    );
  });

  it('should report a file truncated inside the header or the length prefix', async () => {
    const full = Buffer.concat(serializeSafetensors(sample()));
    await expect(readSafetensors(await corrupt('h.safetensors', full.subarray(0, 20)))).rejects.toThrow(
      /header needs \d+ bytes.*truncated/,
    );
    await expect(readSafetensors(await corrupt('p.safetensors', full.subarray(0, 5)))).rejects.toThrow(
      /too short \(5 bytes\).*truncated/,
    );
    await expect(
      readSafetensorsHeader(await corrupt('p2.safetensors', full.subarray(0, 20))),
    ).rejects.toThrow(/truncated/);
  });

  it('should report a bad header', async () => {
    const notJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{abc')]);
    await expect(readSafetensors(await corrupt('a.safetensors', notJson))).rejects.toThrow(
      /bad header: not valid JSON/,
    );
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 2]);
    await expect(readSafetensors(await corrupt('b.safetensors', huge))).rejects.toThrow(
      /implausibly large \(bad header\)/,
    );
    const noOffsets = withHeader({ x: { dtype: 'F32', shape: [1] } }, 4);
    await expect(readSafetensors(await corrupt('c.safetensors', noOffsets))).rejects.toThrow(
      /field "x": bad header: "data_offsets"/,
    );
    const wrongSize = withHeader({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4);
    await expect(readSafetensors(await corrupt('d.safetensors', wrongSize))).rejects.toThrow(
      /needs 8 bytes but data_offsets cover 4/,
    );
    const overlap = withHeader(
      {
        a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
        b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] },
      },
      6,
    );
    await expect(readSafetensors(await corrupt('e.safetensors', overlap))).rejects.toThrow(/overlaps/);
  });

  it('should report an unknown dtype naming the tensor', async () => {
    const file = await corrupt(
      'u.safetensors',
      withHeader({ x: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, 4),
    );
    const error = await readSafetensors(file).catch((e) => e);
    expect(error.field).toBe('x.dtype');
    expect(error.message).toMatch(/unknown or unsupported dtype "BF16"/);
    // The header alone (names, dtypes) is still readable.
    expect((await readSafetensorsHeader(file)).tensors.x.dtype).toBe('BF16');
  });
});

describe('safetensors interop with an independent numpy implementation', () => {
  type Expected = Record<string, { dtype: string; shape: number[]; values: number[] }> & {
    __metadata__: Record<string, string>;
  };

  for (const name of ['numpy-written.safetensors', 'numpy-written-unaligned.safetensors']) {
    it(`should load the committed fixture ${name} with the same values`, async () => {
      const expected = JSON.parse(
        await readFile(join(fixtures, 'numpy-written.expected.json'), 'utf8'),
      ) as Expected;
      const file = await readSafetensors(join(fixtures, name));
      expect(file.metadata).toEqual(expected.__metadata__);
      for (const [k, e] of Object.entries(expected)) {
        if (k === '__metadata__') continue;
        const t = file.tensors[k];
        expect(t.dtype).toBe((e as Expected[string]).dtype);
        expect(t.shape).toEqual((e as Expected[string]).shape);
        const values = Array.from(t.data);
        (e as Expected[string]).values.forEach((v, i) =>
          expect(values[i]).toBe(t.dtype === 'F32' ? Math.fround(v) : v),
        );
      }
    });
  }

  it.skipIf(!python)(
    'should write files the numpy reader loads with the same values (python3 + numpy)',
    async () => {
      const file = join(dir, 'core.safetensors');
      await writeSafetensors(file, sample(), { producer: '@synth2/core' });
      const r = spawnSync(process.env.PYTHON ?? 'python3', [script, 'read', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const back = JSON.parse(r.stdout) as Expected;
      expect(back.__metadata__).toEqual({ producer: '@synth2/core' });
      for (const [name, t] of Object.entries(sample())) {
        expect(back[name].dtype).toBe(t.dtype);
        expect(back[name].shape).toEqual(t.shape);
        const want =
          t.dtype === 'F16'
            ? Array.from(t.data, (v) => float16BitsToFloat32(float32ToFloat16Bits(v)))
            : Array.from(t.data);
        expect(back[name].values).toEqual(want.map((v) => (t.dtype === 'F32' ? Math.fround(v) : v)));
      }
    },
  );

  it.skipIf(!python)('should match a fixture the numpy writer makes now (python3 + numpy)', async () => {
    const out = join(dir, 'fresh.safetensors');
    const r = spawnSync(process.env.PYTHON ?? 'python3', [script, 'write', out, join(dir, 'fresh.json')], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(
      Buffer.compare(await readFile(out), await readFile(join(fixtures, 'numpy-written.safetensors'))),
    ).toBe(0);
  });
});

if (!python)
  console.warn(
    '[skip] python3 with numpy not found: the live numpy interop half is skipped (fixtures still checked)',
  );
