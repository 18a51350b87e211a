/**
 * A server process for the benchmark, so the load generator does not share its event loop:
 *   hook — the real hook service (buildApp with every controller), as `idpbuilder serve` runs it
 *   hook-nomemo — the same with the response memo off: every request runs the hook
 *   echo — a bare Fastify route on the same stack: parses the JSON body and answers a precomputed body of
 *          the size given in the URL (/echo/<bytes>), the baseline the hooks are compared with.
 * Prints {"port": N} on stdout once listening; stops on SIGTERM.
 */
import Fastify from 'fastify';
import { buildApp } from '../src/server/app.js';
import { controllers, decorators } from '../src/controllers/registry.js';
import { newMetrics } from '../src/server/metrics.js';

const mode = process.argv[2];

async function main() {
  let app;
  if (mode === 'hook' || mode === 'hook-nomemo') {
    app = buildApp({
      controllers: controllers(),
      decorators: decorators(),
      metrics: newMetrics({ defaultMetrics: true }),
      bodyLimit: 8 * 1024 * 1024,
      ...(mode === 'hook-nomemo' ? { responseMemoSeconds: 0 } : {}),
    });
  } else if (mode === 'echo') {
    app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
    const bodies = new Map<number, string>();
    app.post<{ Params: { size: string } }>('/echo/:size', async (req, reply) => {
      const size = Number(req.params.size);
      let body = bodies.get(size);
      if (!body) {
        // a JSON document of exactly `size` bytes
        body = `{"p":"${'x'.repeat(Math.max(0, size - 8))}"}`;
        bodies.set(size, body);
      }
      // touch the parsed body, as a handler would
      if (!req.body || typeof req.body !== 'object') return reply.code(400).send({ error: 'no body' });
      reply.header('content-type', 'application/json; charset=utf-8');
      return body;
    });
  } else {
    throw new Error('usage: server.ts hook|hook-nomemo|echo');
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
