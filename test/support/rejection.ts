// What a promise rejected with, checked to be an instance of `cls` (the test fails when it resolved or threw
// something else).
import { expect } from 'vitest';

/** The error `p` rejected with; asserts it is a `cls`. */
export async function rejectionOf<E>(p: Promise<unknown>, cls: abstract new (...args: never[]) => E): Promise<E> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(cls);
  return e as E;
}
