/**
 * Error mapping of the whole server: an {@link HttpError} is answered with its status and code; a schema
 * validation failure is 400 `BadRequest`; another 4xx error (Fastify's: 413 body too large, 400 bad JSON,
 * 415 …) keeps its status and code; anything else is 500 `InternalError` with a short id that the service
 * log line carries (the log gets only type, message and stack: an error may carry the request it failed
 * on). Unknown routes are 404 `NotFound` naming method and path (without the query).
 */
import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyPluginCallback } from 'fastify';
import { HttpError } from '../http-error.js';

const errors: FastifyPluginCallback = (app, _opts, done) => {
  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    if (err.validation) return reply.code(400).send({ error: 'BadRequest', message: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'BadRequest', message: err.message });
    }
    const id = randomUUID().slice(0, 8);
    // only what identifies the failure: an error may carry the request it failed on
    req.log.error({ err: { type: err.name, message: err.message, stack: err.stack }, errorId: id }, 'hook failed');
    return reply.code(500).send({ error: 'InternalError', message: `hook failed; see the service log for error id ${id}`, id });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NotFound', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  done();
};

/** Sets the error and not-found handlers of the whole server. */
export default fp(errors, { name: 'idpbuilder-errors' });
