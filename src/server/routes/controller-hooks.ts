/**
 * The hook routes of the controllers: POST /hooks/<plural>/sync and /finalize (when the controller has a
 * finalize hook) and /customize (when it has one). Each: response schema (every 4xx/5xx an ErrorBody),
 * the metrics onResponse hook, and a handler that answers a memoised request from the memo, checks the
 * envelope (400), the parent's kind and schema (400) and the observed objects' quick shape (400), then runs
 * the hook through HookRuntime.runHook (sync/finalize) and normalises the answer (../response.ts).
 */
import { performance } from 'node:perf_hooks';
import type { FastifyPluginCallback } from 'fastify';
import type { CustomizeRequest as CustomizeRequestT, SyncRequest as SyncRequestT } from '../../metacontroller/protocol.js';
import type { ControllerDef } from '../../kit/hooks.js';
import { finishCustomize, finishSync } from '../../metacontroller/response.js';
import { HttpError, JSON_TYPE, errorResponses } from '../http-error.js';
import type { HookRuntime } from '../hook-runtime.js';

/** Options of the controller hook routes: the controllers to serve and the shared HookRuntime. */
export interface ControllerHooksOptions {
  controllers: ControllerDef[];
  runtime: HookRuntime;
}

/**
 * Registers POST /hooks/<plural>/sync (and /finalize, /customize when the controller has them) for each controller;
 * see the module comment for the checks (400) and errors (ErrorBody).
 */
const controllerHooks: FastifyPluginCallback<ControllerHooksOptions> = (app, { controllers, runtime: rt }, done) => {
  const { env, envelope, observer } = rt;
  for (const c of controllers) {
    const plural = c.kind.plural;
    const checkParent = (parent: { kind?: string }) => {
      if (parent.kind !== c.kind.kind) throw new HttpError(400, 'BadRequest', `body.parent.kind: expected ${c.kind.kind}, got ${JSON.stringify(parent.kind)}`);
      rt.checkAdmitted(parent, 'parent');
    };
    const hooks = c.hooks;

    for (const hook of ['sync', 'finalize'] as const) {
      if (hook === 'finalize' && !hooks.finalize) continue;
      app.post(`/hooks/${plural}/${hook}`, { schema: { response: errorResponses }, onResponse: rt.observe(plural, hook) }, async (req, reply) => {
        const cached = rt.memoHit(req, reply);
        if (cached !== undefined) return cached;
        const body = rt.checkEnvelope<SyncRequestT>(envelope.sync, req.body);
        checkParent(body.parent);
        rt.checkObserved({ children: body.children, related: body.related });
        const fn = hook === 'sync' ? hooks.sync : hooks.finalize!;
        return rt.runHook(
          req,
          reply,
          rt.randomFor(body.parent),
          (e, first) => {
            const started = performance.now();
            try {
              return finishSync(fn(body, e));
            } catch (err) {
              if (first) observer.failed(body, (performance.now() - started) / 1000);
              return rt.hookFailed(err, { children: body.children, related: body.related });
            }
          },
          (res, seconds) => observer.synced(body, res, seconds, hook),
        );
      });
    }
    const customize = hooks.customize;
    if (customize) {
      app.post(`/hooks/${plural}/customize`, { schema: { response: errorResponses }, onResponse: rt.observe(plural, 'customize') }, async (req, reply) => {
        const body = rt.checkEnvelope<CustomizeRequestT>(envelope.customize, req.body);
        checkParent(body.parent);
        const res = customize(body, { ...env, random: rt.randomFor(body.parent) });
        reply.type(JSON_TYPE);
        return JSON.stringify(finishCustomize(res));
      });
    }
  }
  done();
};

export default controllerHooks;
