/**
 * The few Reflect metadata functions tsyringe (a dependency of @peculiar/x509) insists on, for when the
 * `reflect-metadata` package is not installed. Import this module before @peculiar/x509.
 */
type Key = unknown;
const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  const store = new WeakMap<object, Map<Key, unknown>>();
  const own = (target: object, create: boolean): Map<Key, unknown> | undefined => {
    let m = store.get(target);
    if (!m && create) store.set(target, (m = new Map()));
    return m;
  };
  const getOwnMetadata = (key: Key, target: object): unknown => own(target, false)?.get(key);
  const getMetadata = (key: Key, target: object): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const m = own(t, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: Key, value: unknown, target: object): void => void own(target, true)!.set(key, value);
  Object.assign(R, {
    getOwnMetadata,
    getMetadata,
    defineMetadata,
    hasMetadata: (key: Key, target: object) => getMetadata(key, target) !== undefined,
    hasOwnMetadata: (key: Key, target: object) => own(target, false)?.has(key) ?? false,
    metadata: (key: Key, value: unknown) => (target: object) => defineMetadata(key, value, target),
  });
}
export {};
