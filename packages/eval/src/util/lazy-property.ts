/**
 * Defines `object[key]` as an enumerable property computed on first read (JSON.stringify and spreads read it like
 * a plain value); assigning it replaces the value.
 */
export function defineLazyProperty<T extends object, K extends keyof T>(
  object: T,
  key: K,
  compute: () => T[K],
): void {
  let value: T[K] | undefined;
  let computed = false;
  Object.defineProperty(object, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!computed) {
        value = compute();
        computed = true;
      }
      return value;
    },
    set: (v: T[K]) => {
      value = v;
      computed = true;
    },
  });
}
