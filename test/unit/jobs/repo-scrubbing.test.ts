import { describe, expect, it } from 'vitest';
import { GitCommandError } from '../../../src/jobs/repo/errors.js';
import { withScrubbing } from '../../../src/jobs/repo/sync.js';

describe('withScrubbing (repo-sync push, Job and CLI)', () => {
  it('scrubs log messages, log fields and thrown errors, including secrets added while it runs', async () => {
    const lines: Array<[string, unknown]> = [];
    const log = { info: (m: string, f?: unknown) => lines.push([m, f]), warn: (m: string, f?: unknown) => lines.push([m, f]) };
    const secrets = ['tok-abcdef'];
    const err = await withScrubbing(secrets, log, async (l) => {
      l.info('using tok-abcdef', { url: 'https://u:pw-later@git.example/x.git', nested: ['tok-abcdef'] });
      secrets.push('pw-added');
      throw new GitCommandError('git push failed: pw-added tok-abcdef', 'remote: pw-added');
    }).catch((e: unknown) => e);
    expect(lines).toEqual([['using ***', { url: 'https://***@git.example/x.git', nested: ['***'] }]]);
    expect(err).toBeInstanceOf(GitCommandError);
    expect((err as GitCommandError).message).toBe('git push failed: *** ***');
    expect((err as GitCommandError).output).toBe('remote: ***');
  });

  it('returns what the push returns', async () => {
    await expect(withScrubbing(['tok-abcdef'], { info: () => undefined, warn: () => undefined }, async () => 'done')).resolves.toBe('done');
  });
});
