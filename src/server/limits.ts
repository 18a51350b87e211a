/**
 * Limits of the hook service that must fit together: how many requests it takes at once
 * (`serve --max-concurrency`), how large each may be (`--body-limit`), how much it remembers
 * (the response memo, ./memo.ts) and the container's memory limit (the chart's
 * `resources.limits.memory`). Pure functions; the chart's defaults are checked against them by a unit
 * test (test/unit/server-limits.test.ts), and docs/operations.md explains the numbers.
 *
 * The model is an upper bound, not an estimate of typical use:
 *
 *   worst case = baseline + memo + maxConcurrency × bodyLimit × amplification
 *
 * - `baseline`: resident memory of an idle service (Node, Fastify, the compiled schemas, the generated
 *   controllers) after the first requests warmed it up;
 * - `memo`: the response memo's byte bound (its entries are answers, counted in UTF-16 code units ≤ bytes
 *   of a one-byte string, so the bound holds);
 * - `amplification`: live memory per byte of request body while one request is held, parsed and answered
 *   (the raw buffer, the parsed objects, the hook's answer and its serialisation), measured as described
 *   in docs/operations.md. Every in-flight request is counted as if it were at that peak at once, though
 *   Node runs one hook at a time; the bound is therefore conservative.
 */

/** Largest request body the service accepts, in bytes, unless `--body-limit` says otherwise: 8 MiB. */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

/** Seconds a client has to send a whole request unless `--request-timeout` says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

/** Byte bound of the response memo (./memo.ts `maxBytes` default). */
export const MEMO_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Live bytes per request-body byte at the peak of one request: 4.2 measured at the moment the answer is
 * serialised (parsed body + answer + its JSON; the worst shape, a provider with megabytes of Helm values,
 * which the answer repeats as YAML and JSON), plus 2 for the raw body buffer and its decoded string, which
 * are alive together while the body is parsed. Measured with bench/memory.ts (docs/operations.md, "Memory").
 */
export const AMPLIFICATION = 6;

/**
 * Resident bytes of a warmed-up idle service: 120 MiB measured (compiled dist/, Node 20, after answering
 * every request of the default platform five times), rounded up to 128 MiB.
 */
export const BASELINE_BYTES = 128 * 1024 * 1024;

/**
 * The limits the worst-case memory is computed from: requests in flight at most, the largest body (bytes) and the
 * memo's byte bound (default MEMO_MAX_BYTES).
 */
export interface LimitInputs {
  /** Hook requests in flight at most (`--max-concurrency`); must be a positive integer. */
  maxConcurrency: number;
  /** Largest request body in bytes (`--body-limit`). */
  bodyLimit: number;
  /** Byte bound of the response memo; 0 when `--response-memo-seconds 0`. Default MEMO_MAX_BYTES. */
  memoBytes?: number;
}

/**
 * The worst-case memory of the service in bytes for these limits (see the module comment).
 * @throws RangeError when `maxConcurrency` is not a positive integer or `bodyLimit` is not a positive number of
 *   bytes.
 */
export function worstCaseBytes(l: LimitInputs): number {
  if (!Number.isInteger(l.maxConcurrency) || l.maxConcurrency < 1) throw new RangeError(`maxConcurrency must be a positive integer, got ${l.maxConcurrency}`);
  if (!Number.isFinite(l.bodyLimit) || l.bodyLimit < 1) throw new RangeError(`bodyLimit must be a positive number of bytes, got ${l.bodyLimit}`);
  return BASELINE_BYTES + (l.memoBytes ?? MEMO_MAX_BYTES) + l.maxConcurrency * l.bodyLimit * AMPLIFICATION;
}

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/**
 * Bytes of a Kubernetes memory quantity (`256Mi`, `1G`, `134217728`, `1.5Gi`, `1e9`). Throws RangeError for
 * anything else (millis such as `100m` make no sense for memory and are refused).
 */
export function parseMemoryQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0) throw new RangeError(`not a memory quantity: ${q}`);
    return q;
  }
  const m = /^([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) throw new RangeError(`not a memory quantity: ${JSON.stringify(q)}`);
  return Math.ceil(Number(m[1]) * SUFFIX[m[2] ?? '']);
}

/** The limits that apply, and whether their worst case fits under `memoryLimit` (a Kubernetes quantity). */
export function limitsFit(l: LimitInputs & { memoryLimit: string | number }): { fits: boolean; worstCaseBytes: number; memoryLimitBytes: number } {
  const worst = worstCaseBytes(l);
  const limit = parseMemoryQuantity(l.memoryLimit);
  return { fits: worst <= limit, worstCaseBytes: worst, memoryLimitBytes: limit };
}

/** The largest concurrency whose worst case fits under `memoryLimit` with this body limit (0: none fits). */
export function maxConcurrencyFor(bodyLimit: number, memoryLimit: string | number, memoBytes = MEMO_MAX_BYTES): number {
  const room = parseMemoryQuantity(memoryLimit) - BASELINE_BYTES - memoBytes;
  return room <= 0 ? 0 : Math.floor(room / (bodyLimit * AMPLIFICATION));
}
