/** Go-style durations (`90s`, `5m`, `1h30m`) in seconds. */
export function durationSeconds(d: string | undefined, fallback: number): number {
  if (!d) return fallback;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let matched = '';
  for (const m of d.matchAll(re)) {
    matched += m[0];
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
  }
  return matched === d && total > 0 ? total : fallback;
}
