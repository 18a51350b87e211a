/**
 * The hook routes of the decorator controllers: POST /hooks/<name>/sync, /finalize and /customize, each
 * only when the decorator has that hook. Checks as ./controller-hooks.ts, with the object's kind one of the
 * decorator's resources; the sync/finalize answer keeps exactly the fields Metacontroller v2 strict mode
 * accepts, attachments sorted.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { CustomizeRequest as CustomizeRequestT, DecoratorSyncRequest as DecoratorSyncRequestT } from '../../metacontroller/protocol.js';
import type { DecoratorDef } from '../../kit/hooks.js';
import { finishCustomize, sortChildren } from '../../metacontroller/response.js';
import { HttpError, JSON_TYPE, errorResponses } from '../http-error.js';
import type { HookRuntime } from '../hook-runtime.js';

/** Options of the decorator hook routes: the decorators to serve and the shared HookRuntime. */
export interface DecoratorHooksOptions {
  decorators: DecoratorDef[];
  runtime: HookRuntime;
}

/**
 * Registers POST /hooks/<name>/sync (and /finalize, /customize when present) for each decorator; see the module
 * comment.
 */
const decoratorHooks: FastifyPluginCallback<DecoratorHooksOptions> = (app, { decorators, runtime: rt }, done) => {
  const { env, envelope } = rt;
  for (const d of decorators) {
    const kinds = new Set(d.resources.map((r) => r.kind));
    const checkObject = (o: { kind?: string }, field: string) => {
      if (!o.kind || !kinds.has(o.kind)) throw new HttpError(400, 'BadRequest', `body.${field}.kind: expected ${[...kinds].join(' or ')}, got ${JSON.stringify(o.kind)}`);
      const result = rt.parentCheck.admit(o);
      if (result.outcome === 'invalid') {
        const p = result.problems[0];
        throw new HttpError(400, 'BadRequest', `body.${field}${p.path === '.' ? '' : p.path}: ${p.message}`);
      }
    };
    for (const hook of ['sync', 'finalize'] as const) {
      const fn = hook === 'sync' ? d.hooks.sync : d.hooks.finalize;
      if (!fn) continue;
      app.post(`/hooks/${d.name}/${hook}`, { schema: { response: errorResponses }, onResponse: rt.observe(d.name, hook) }, async (req, reply) => {
        const cached = rt.memoHit(req, reply);
        if (cached !== undefined) return cached;
        const body = rt.checkEnvelope<DecoratorSyncRequestT>(envelope.decorator, req.body);
        checkObject(body.object, 'object');
        rt.checkObserved({ attachments: body.attachments, related: body.related });
        return rt.runHook(req, reply, rt.randomFor(body.object), (e) => {
          let res;
          try {
            res = fn(body, e);
          } catch (err) {
            return rt.hookFailed(err, { attachments: body.attachments, related: body.related });
          }
          const out: Record<string, unknown> = {};
          // exactly the fields v2 strict mode accepts
          for (const k of ['labels', 'annotations', 'status', 'resyncAfterSeconds', 'finalized'] as const) if (res[k] !== undefined) out[k] = res[k];
          out.attachments = sortChildren(res.attachments ?? []);
          return out;
        });
      });
    }
    const customize = d.hooks.customize;
    if (customize) {
      app.post(`/hooks/${d.name}/customize`, { schema: { response: errorResponses }, onResponse: rt.observe(d.name, 'customize') }, async (req, reply) => {
        const body = rt.checkEnvelope<CustomizeRequestT>(envelope.customize, req.body);
        checkObject(body.parent, 'parent');
        const res = customize(body, { ...env, random: rt.randomFor(body.parent) });
        reply.type(JSON_TYPE);
        return JSON.stringify(finishCustomize(res));
      });
    }
  }
  done();
};

export default decoratorHooks;
