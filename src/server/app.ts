/**
 * The hook service: Fastify routes that hand Metacontroller requests to pure hook functions. It adds
 * validation, auth, logging, metrics and error mapping, and nothing else.
 *
 * Routes: POST /hooks/<plural>/<sync|finalize|customize>, GET /healthz, GET /readyz, GET /metrics.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { Admission } from '../api/validate.js';
import { CustomizeRequest, CustomizeResponse, DecoratorSyncRequest, DecoratorSyncResponse, SyncRequest, SyncResponse } from '../metacontroller/protocol.js';
import type { ControllerDef, DecoratorDef, HookEnv, HookName, Settings } from '../controllers/types.js';
import { DEFAULT_SETTINGS } from '../controllers/types.js';
import { newMetrics, type HookMetrics } from './metrics.js';
import { finishSync, sortChildren } from './response.js';

export interface AppOptions {
  controllers: ControllerDef[];
  decorators?: DecoratorDef[];
  settings?: Settings;
  /** Expected bearer token (Metacontroller's webhook `authorization`); no check when unset. */
  token?: string;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  logger?: Logger | boolean;
  /** Injected clock and randomness (tests); the defaults are the real ones. */
  env?: Partial<Pick<HookEnv, 'now' | 'random'>>;
  metrics?: HookMetrics;
}

const K8S_KEYWORDS = ['x-kubernetes-validations', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys'];

const ErrorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, id: { type: 'string' } },
  required: ['error', 'message'],
  additionalProperties: false,
} as const;

class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function buildApp(options: AppOptions): FastifyInstance {
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const env: HookEnv = {
    now: options.env?.now ?? (() => new Date()),
    random: options.env?.random ?? ((n) => randomBytes(n)),
    settings,
  };
  const metrics = options.metrics ?? newMetrics();
  const admission = new Admission();
  const expectedToken = options.token ? digest(`Bearer ${options.token}`) : undefined;
  let closing = false;

  const logging = typeof options.logger === 'object' ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: options.logger ?? false };
  const app = Fastify({
    ...logging,
    bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false, strict: false, keywords: K8S_KEYWORDS } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onClose', async () => {
    closing = true;
  });

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    if (err.validation) return reply.code(400).send({ error: 'BadRequest', message: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'BadRequest', message: err.message });
    }
    const id = randomUUID().slice(0, 8);
    req.log.error({ err, errorId: id }, 'hook failed');
    return reply.code(500).send({ error: 'InternalError', message: `hook failed; see the service log for error id ${id}`, id });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NotFound', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (closing ? reply.code(503).send({ status: 'shutting down' }) : { status: 'ok' }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const authorize = (req: FastifyRequest) => {
    if (!expectedToken) return;
    const got = req.headers.authorization;
    if (typeof got !== 'string' || !timingSafeEqual(digest(got), expectedToken)) {
      throw new HttpError(401, 'Unauthorized', 'missing or wrong bearer token');
    }
  };

  const observe = (controller: string, hook: HookName) => (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const seconds = reply.elapsedTime / 1000;
    const code = String(reply.statusCode);
    metrics.hookDuration.observe({ controller, hook, code }, seconds);
    if (reply.statusCode !== 200) metrics.hookErrors.inc({ controller, hook, code });
    done();
  };

  for (const c of options.controllers) {
    const plural = c.kind.plural;
    const checkParent = (parent: { kind?: string; apiVersion?: string }) => {
      const result = admission.admit(parent);
      if (parent.kind !== c.kind.kind) throw new HttpError(400, 'BadRequest', `body.parent.kind: expected ${c.kind.kind}, got ${JSON.stringify(parent.kind)}`);
      if (result.outcome === 'skipped') throw new HttpError(400, 'BadRequest', `body.parent.apiVersion: ${result.reason}`);
      if (result.outcome === 'invalid') {
        const p = result.problems[0];
        throw new HttpError(400, 'BadRequest', `body.parent${p.path === '.' ? '' : p.path}: ${p.message}`);
      }
    };
    const notImplemented = async () => {
      throw new HttpError(501, 'NotImplemented', `the ${c.kind.kind} controller is not implemented yet`);
    };
    const hooks = c.hooks;
    const syncSchema = { body: SyncRequest, response: { 200: SyncResponse, '4xx': ErrorBody, '5xx': ErrorBody } };

    for (const hook of ['sync', 'finalize'] as const) {
      if (hooks && hook === 'finalize' && !hooks.finalize) continue;
      app.post(`/hooks/${plural}/${hook}`, { schema: syncSchema, preHandler: async (req) => authorize(req), onResponse: observe(plural, hook) }, async (req) => {
        if (!hooks) return notImplemented();
        checkParent(req.body.parent);
        const fn = hook === 'sync' ? hooks.sync : hooks.finalize!;
        return finishSync(fn(req.body as Parameters<typeof fn>[0], env));
      });
    }
    if (!hooks || hooks.customize) {
      app.post(
        `/hooks/${plural}/customize`,
        {
          schema: { body: CustomizeRequest, response: { 200: CustomizeResponse, '4xx': ErrorBody, '5xx': ErrorBody } },
          preHandler: async (req) => authorize(req),
          onResponse: observe(plural, 'customize'),
        },
        async (req) => {
          if (!hooks?.customize) return notImplemented();
          checkParent(req.body.parent);
          return hooks.customize(req.body as Parameters<NonNullable<typeof hooks.customize>>[0], env);
        },
      );
    }
  }
  for (const d of options.decorators ?? []) {
    const kinds = new Set(d.resources.map((r) => r.kind));
    const checkObject = (o: { kind?: string; apiVersion?: string }, field: string) => {
      if (!o.kind || !kinds.has(o.kind)) throw new HttpError(400, 'BadRequest', `body.${field}.kind: expected ${[...kinds].join(' or ')}, got ${JSON.stringify(o.kind)}`);
      const result = admission.admit(o);
      if (result.outcome === 'invalid') {
        const p = result.problems[0];
        throw new HttpError(400, 'BadRequest', `body.${field}${p.path === '.' ? '' : p.path}: ${p.message}`);
      }
    };
    for (const hook of ['sync', 'finalize'] as const) {
      const fn = hook === 'sync' ? d.hooks.sync : d.hooks.finalize;
      if (!fn) continue;
      app.post(
        `/hooks/${d.name}/${hook}`,
        {
          schema: { body: DecoratorSyncRequest, response: { 200: DecoratorSyncResponse, '4xx': ErrorBody, '5xx': ErrorBody } },
          preHandler: async (req) => authorize(req),
          onResponse: observe(d.name, hook),
        },
        async (req) => {
          checkObject(req.body.object, 'object');
          const res = fn(req.body as Parameters<typeof fn>[0], env);
          return { ...res, attachments: sortChildren(res.attachments ?? []) };
        },
      );
    }
    const customize = d.hooks.customize;
    if (customize) {
      app.post(
        `/hooks/${d.name}/customize`,
        {
          schema: { body: CustomizeRequest, response: { 200: CustomizeResponse, '4xx': ErrorBody, '5xx': ErrorBody } },
          preHandler: async (req) => authorize(req),
          onResponse: observe(d.name, 'customize'),
        },
        async (req) => {
          checkObject(req.body.parent, 'parent');
          return customize(req.body as Parameters<typeof customize>[0], env);
        },
      );
    }
  }
  return app;
}
