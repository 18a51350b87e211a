/**
 * The hook server's error answers: one body shape for every 4xx/5xx it sends itself, and the error a
 * handler or parser throws to get one (mapped by ./plugins/errors.ts).
 */

/** The JSON body of every error answer: `{error, message}`, plus `id` on a 500 (the service log's key). */
const ErrorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, id: { type: 'string' } },
  required: ['error', 'message'],
  additionalProperties: false,
} as const;

/** Response schemas of a hook route: every 4xx and 5xx is an {@link ErrorBody}. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody };

/** Content type of the JSON strings the hook routes send (serialized once, by the route). */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Answered as `statusCode` with body `{error: code, message}` by the error handler. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
}
