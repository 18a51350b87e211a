/** The hooks' keyed randomness and its seed (src/server/random.ts, serve --random-seed-file). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyedRandom, MIN_SEED_BYTES, objectIdentity } from '../../src/kit/random.js';
import { readRandomSeed, ServeConfigError } from '../../src/server/serve.js';

const seed = Buffer.alloc(32, 7);
const gitea = { kind: 'GiteaProvider', metadata: { namespace: 'team-a', name: 'gitea', uid: 'u-1' } };

describe('keyed randomness', () => {
  it('the same object and seed give the same bytes, however they are drawn', () => {
    const a = keyedRandom(seed, objectIdentity(gitea));
    const b = keyedRandom(seed, objectIdentity(gitea));
    const whole = Buffer.from(a(80));
    const pieces = Buffer.concat([b(13), b(50), b(17)].map((x) => Buffer.from(x)));
    expect(pieces.equals(whole)).toBe(true);
  });

  it('another object, uid or seed gives other bytes', () => {
    const base = Buffer.from(keyedRandom(seed, objectIdentity(gitea))(32));
    const other = [
      keyedRandom(seed, objectIdentity({ ...gitea, metadata: { ...gitea.metadata, name: 'gitea2' } })),
      keyedRandom(seed, objectIdentity({ ...gitea, metadata: { ...gitea.metadata, uid: 'u-2' } })),
      keyedRandom(Buffer.alloc(32, 8), objectIdentity(gitea)),
    ];
    for (const r of other) expect(Buffer.from(r(32)).equals(base)).toBe(false);
  });

  it('refuses a seed shorter than 32 bytes', () => {
    expect(() => keyedRandom(Buffer.alloc(MIN_SEED_BYTES - 1), 'x')).toThrow(/at least 32 bytes/);
  });
});

describe('serve --random-seed-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'));
  it('reads the file, one trailing newline removed', () => {
    const f = join(dir, 'seed');
    writeFileSync(f, `${'s'.repeat(40)}\n`);
    expect(readRandomSeed(f, {})!.toString()).toBe('s'.repeat(40));
  });
  it('falls back to $IDPBUILDER_RANDOM_SEED_FILE, and to none', () => {
    const f = join(dir, 'env-seed');
    writeFileSync(f, 'e'.repeat(32));
    expect(readRandomSeed(undefined, { IDPBUILDER_RANDOM_SEED_FILE: f })!.toString()).toBe('e'.repeat(32));
    expect(readRandomSeed(undefined, {})).toBeUndefined();
  });
  it('a short, empty or unreadable seed file is a start-up error', () => {
    const f = join(dir, 'short');
    writeFileSync(f, 'short\n');
    expect(() => readRandomSeed(f, {})).toThrow(ServeConfigError);
    expect(() => readRandomSeed(f, {})).toThrow(/at least 32 bytes, got 5/);
    writeFileSync(f, '');
    expect(() => readRandomSeed(f, {})).toThrow(/got 0/);
    expect(() => readRandomSeed(join(dir, 'missing'), {})).toThrow(/cannot read the seed \(ENOENT\)/);
  });
});
