// Taking a few fields out of a larger options object, so that a function is given only what it uses.

/** Every key of T, each marked once: a `satisfies` on this fails when T gains a key not listed. */
export type KeysOf<T> = { [K in keyof Required<T>]: true };

/** The fields of `options` named by `keys` that are set (an unset one stays absent, not undefined). */
export function pick<T extends object>(options: T, keys: KeysOf<T>): T {
  const picked: Partial<T> = {};
  for (const key of Object.keys(keys) as (keyof T)[]) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as T;
}
