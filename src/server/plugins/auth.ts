/**
 * Bearer-token auth of the hook routes (/hooks/…), checked in onRequest before the body is read:
 * 401 `{error: 'Unauthorized'}` unless the Authorization header is exactly `Bearer <token>`. Fail closed:
 * an empty or whitespace-only token throws at registration instead of turning the check off.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyPluginCallback } from 'fastify';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The bearer check: true when `header` is exactly `Bearer <token>`. Both sides are SHA-256 digests of
 * equal length, so timingSafeEqual compares in constant time and neither the token's content nor its
 * length leaks through timing. Without a token (undefined) every request passes; an empty or
 * whitespace-only token throws instead of turning the check off.
 */
export function bearerCheck(token: string | undefined): (header: unknown) => boolean {
  if (token === undefined) return () => true;
  if (token.trim() === '') throw new Error('bearer token is empty; leave it unset to run without auth');
  const expected = digest(`Bearer ${token}`);
  return (header) => typeof header === 'string' && timingSafeEqual(digest(header), expected);
}

/**
 * Options of the auth plugin: the check of the Authorization header (from bearerCheck); a request it refuses gets
 * 401.
 */
export interface AuthOptions {
  /** The header check, from {@link bearerCheck} (built by the caller so a bad token throws at once). */
  authorized: (header: unknown) => boolean;
}

const auth: FastifyPluginCallback<AuthOptions> = (app, { authorized }, done) => {
  app.addHook('onRequest', (req, reply, next) => {
    if (!req.url.startsWith('/hooks/')) return next();
    if (!authorized(req.headers.authorization)) {
      reply.code(401).send({ error: 'Unauthorized', message: 'missing or wrong bearer token' });
      return;
    }
    next();
  });
  done();
};

/** Registers the bearer check as an onRequest hook of the whole server (after load shedding). */
export default fp(auth, { name: 'idpbuilder-auth' });
