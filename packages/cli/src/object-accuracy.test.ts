import { describe, expect, it } from 'vitest';
import { objectNaming } from './object-accuracy';

describe('objectNaming (results.json diagnostics)', () => {
  it('should score single-object captions by their colour and shape words, seen and held-out pairs apart', () => {
    const red = [{ color: 'red', shape: 'circle' }];
    const blue = [{ color: 'blue', shape: 'star' }];
    const r = objectNaming(
      [
        { caption: 'a red circle on a black background', objects: red },
        { caption: 'a small red ball in the top left corner', objects: red }, // synonym of circle
        { caption: 'a red square on a black background', objects: red }, // wrong shape
        { caption: 'a large circle in the middle', objects: red }, // no colour named
        { caption: 'a blue star', objects: blue },
        { caption: 'a green star', objects: blue },
        { caption: 'a red circle and a blue star', objects: [...red, ...blue] }, // two objects: not counted
      ],
      new Set(['blue star']),
    );
    expect(r.seen).toEqual({ images: 4, color: 0.75, shape: 0.75, both: 0.5 });
    expect(r.heldOut).toEqual({ images: 2, color: 0.5, shape: 1, both: 0.5 });
    expect(objectNaming([], new Set())).toEqual({ seen: undefined, heldOut: undefined });
  });
});
