/** A small bounded LRU map: the oldest entry goes when it is full. Used to remember what was already counted. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new Error('Lru capacity must be positive');
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // refresh: most recently used goes last
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** The least recently used key. */
  oldest(): K | undefined {
    const first = this.map.keys().next();
    return first.done ? undefined : first.value;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** Adds `key` and answers true when it was not there yet (a "first time seen" test). */
  add(key: K, value: V): boolean {
    if (this.map.has(key)) {
      this.get(key);
      return false;
    }
    this.set(key, value);
    return true;
  }
}
