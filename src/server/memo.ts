/**
 * The response memo: Metacontroller sends the same request again and again while nothing changes
 * (resyncs, cache flushes, related-object events that change nothing the parent sees). Hooks are pure
 * functions of the request and of the injected clock and randomness, so an identical request may get the
 * identical answer — as long as the clock cannot have changed it.
 *
 * How that is made safe:
 * - The key is a SHA-256 of the route and the raw request bytes (after authorization).
 * - A request is memoised only the second time it is seen (a first sight costs nothing extra), and only
 *   if the hook, run once more with the clock moved `horizon` ahead (and the same random bytes), answers
 *   byte for byte the same. The hooks' use of time is monotone — condition timestamps, interval rounds
 *   `floor(now / interval)`, deadlines `now > t` — so an answer equal at both ends of the window is the
 *   answer at every instant inside it. An answer that depends on time (a resync countdown, a condition
 *   changing now) differs and is never memoised.
 * - The entry expires at the end of the window; the next sighting checks again.
 * - Bounded by entries and bytes; least recently used entries go first.
 */
import { createHash } from 'node:crypto';
import { Lru } from '../kit/lru.js';
import { MEMO_MAX_BYTES } from './limits.js';

/** One memoised answer: the serialized response, when it expires (epoch ms) and a callback run on each hit. */
export interface MemoEntry {
  /** The serialized response. */
  body: string;
  /** Epoch ms after which the entry must not be used. */
  expires: number;
  /** Runs on each hit (metrics that count reconciles). */
  onHit?: () => void;
}

/**
 * Options of ResponseMemo: the window (ms, default 30 000; 0 disables it), the most entries kept (default 512), the
 * most bytes of answers kept (default MEMO_MAX_BYTES) and the clock (epoch ms).
 */
export interface MemoOptions {
  /** Window in ms an answer is checked for and then reused; 0 disables the memo. */
  horizonMs?: number;
  maxEntries?: number;
  maxBytes?: number;
  now?: () => number;
}

/**
 * The response memo: an LRU of serialized hook answers keyed by a SHA-256 digest of the route and the raw request
 * body, reused within the window when a second identical request shows the answer does not move with the clock;
 * bounded in entries and bytes.
 */
export class ResponseMemo {
  readonly horizonMs: number;
  private readonly entries: Lru<string, MemoEntry>;
  /** key → 0 when seen once, or the time until which its answer is known to change with the clock */
  private readonly seen: Lru<string, number>;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(options: MemoOptions = {}) {
    this.horizonMs = options.horizonMs ?? 30_000;
    this.entries = new Lru(options.maxEntries ?? 512);
    this.seen = new Lru((options.maxEntries ?? 512) * 8);
    this.maxBytes = options.maxBytes ?? MEMO_MAX_BYTES;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.horizonMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  key(route: string, raw: Buffer | string): string {
    return createHash('sha256').update(route).update('\u0000').update(raw).digest('base64');
  }

  /** The memoised answer, if fresh. */
  get(key: string): MemoEntry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.drop(key, e);
      return undefined;
    }
    this.hits += 1;
    return e;
  }

  /** Records a sighting; true when the key was seen before (worth checking for the memo). */
  sighted(key: string): boolean {
    this.misses += 1;
    const until = this.seen.get(key);
    if (until === undefined) {
      this.seen.set(key, 0);
      return false;
    }
    return until <= this.now();
  }

  /** The answer to `key` changed with the clock: do not check it again before `until`. */
  unstable(key: string, until: number): void {
    this.seen.set(key, until);
  }

  set(key: string, entry: MemoEntry): void {
    const size = entry.body.length * 2 + 200;
    if (size > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    while (this.bytes + size > this.maxBytes && this.entries.size > 0) this.evictOldest();
    const before = this.entries.size;
    this.entries.set(key, entry);
    // the LRU may have pushed its oldest entry out
    if (this.entries.size === before) this.recount();
    else this.bytes += size;
  }

  private drop(key: string, e: MemoEntry): void {
    if (this.entries.delete(key)) this.bytes -= e.body.length * 2 + 200;
  }

  private evictOldest(): void {
    const key = this.entries.oldest();
    if (key === undefined) return;
    const e = this.entries.get(key)!;
    this.drop(key, e);
  }

  private recount(): void {
    let total = 0;
    for (const e of this.entries.values()) total += e.body.length * 2 + 200;
    this.bytes = total;
  }
}

/** Random bytes that can be replayed: the second run of a hook must draw the same bytes as the first. */
export function recordingRandom(source: (n: number) => Uint8Array): { random: (n: number) => Uint8Array; replay: () => (n: number) => Uint8Array; used: () => boolean } {
  const drawn: Uint8Array[] = [];
  return {
    random: (n) => {
      const b = source(n);
      drawn.push(Uint8Array.from(b));
      return b;
    },
    replay: () => {
      let i = 0;
      return (n) => {
        const b = drawn[i++];
        return b && b.length === n ? Uint8Array.from(b) : source(n);
      };
    },
    used: () => drawn.length > 0,
  };
}
