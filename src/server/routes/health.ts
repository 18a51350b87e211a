/**
 * GET /healthz: 200 `{status: 'ok'}` while the process serves. GET /readyz: the same, and 503
 * `{status: 'shutting down'}` once the server is closing.
 */
import type { FastifyPluginCallback } from 'fastify';

/** Registers GET /healthz and GET /readyz (see the module comment: /readyz answers 503 once the server is closing). */
const health: FastifyPluginCallback = (app, _opts, done) => {
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (closing ? reply.code(503).send({ status: 'shutting down' }) : { status: 'ok' }));
  done();
};

export default health;
