/**
 * The JSON body parser: Fastify's own (proto-poisoning checks, 400 on bad JSON; the body limit is the
 * server's `bodyLimit`, 413), with two steps in front: the response memo lookup (a hook request whose
 * answer is memoised is not parsed at all, see HookRuntime.lookup) and the nesting limit (a body nested
 * deeper than MAX_JSON_DEPTH is 400 before parsing, ../json-depth.ts).
 */
import fp from 'fastify-plugin';
import type { FastifyPluginCallback } from 'fastify';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../json-depth.js';
import { HttpError } from '../http-error.js';
import type { HookRuntime } from '../hook-runtime.js';

/** Options of the JSON body plugin: the HookRuntime whose memo it looks requests up in. */
export interface JsonBodyOptions {
  runtime: HookRuntime;
}

const jsonBody: FastifyPluginCallback<JsonBodyOptions> = (app, { runtime }, done) => {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, next) => {
    if (runtime.lookup(req, body as Buffer)) return next(null, null);
    // decoded once: the depth scan and Fastify's parser (which decodes a Buffer the same way) read the same text
    const text = (body as Buffer).toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      return next(new HttpError(400, 'BadRequest', `body: nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    parseJson(req, text, next);
  });
  done();
};

/** Replaces the server's application/json parser. */
export default fp(jsonBody, { name: 'idpbuilder-json-body' });
