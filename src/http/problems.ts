import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { EntitleError, errorRegistry, type ErrorCode, type Problem } from '../errors/index.ts';
import { databaseFailure } from '../store/index.ts';

/** An RFC 9457 problem document, with the stable code and every field at fault. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: readonly { readonly field?: string; readonly message: string }[];
  /** The decision a problem is about, when there is one (ENTITLE_DECISION_IN_DOUBT). */
  readonly decisionId?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
/** Seconds a client should wait before retrying a request the service could not record. */
export const RETRY_AFTER_SECONDS = 2;

export function problemOf(error: EntitleError, requestId?: string): ProblemDocument {
  const definition = errorRegistry[error.code];
  const errors = error.problems.map((p: Problem) =>
    p.field !== undefined ? { field: p.field, message: p.message } : { message: p.message },
  );
  return {
    // First, so that nothing in them can replace the members every problem has.
    ...error.extensions,
    type: `urn:entitle:problem:${error.code}`,
    title: definition.title,
    status: definition.status,
    code: error.code,
    detail: `${error.message}. ${definition.action}`,
    ...(requestId ? { instance: `urn:entitle:request:${requestId}` } : {}),
    ...(errors.length > 0 ? { errors } : {}),
  };
}

/**
 * Turns anything thrown into a problem: an EntitleError as it is, Fastify's own client errors
 * (bad JSON, too large, wrong media type, failed schema) into their registered codes, and
 * anything else into ENTITLE_INTERNAL without its message (which could hold anything).
 */
interface Validation {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: { allowedValues?: unknown[]; missingProperty?: string; additionalProperty?: string };
}

/** A schema violation as a field and what to do: the allowed values, the missing field, the unknown one. */
function validationProblem(v: Validation): { field: string; message: string } {
  const path = v.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? '';
  if (v.keyword === 'enum' && v.params?.allowedValues)
    return { field: path || 'request', message: `give one of: ${v.params.allowedValues.map(String).join(', ')}` };
  if (v.keyword === 'required' && v.params?.missingProperty)
    return {
      field: path ? `${path}.${v.params.missingProperty}` : v.params.missingProperty,
      message: `give ${v.params.missingProperty}`,
    };
  // The unknown name is the caller's text: not echoed (it could be anything).
  if (v.keyword === 'additionalProperties')
    return { field: path || 'request', message: 'remove the field this request does not take (see /openapi.json)' };
  return { field: path || 'request', message: v.message ?? 'is not valid' };
}

export function toEntitleError(error: unknown): EntitleError {
  if (error instanceof EntitleError) return error;
  const fastifyError = error as Partial<FastifyError> & { validation?: Validation[] };
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new EntitleError('ENTITLE_BODY_TOO_LARGE', 'the request body is larger than allowed');
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new EntitleError('ENTITLE_REQUEST_INVALID', 'the request body must be JSON', [
      { message: 'send Content-Type: application/json' },
    ]);
  }
  if (fastifyError.validation) {
    return new EntitleError(
      'ENTITLE_REQUEST_INVALID',
      'the request is not valid',
      fastifyError.validation.map(validationProblem),
    );
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's messages can quote the body (a JSON syntax error does): never repeat them.
    return new EntitleError('ENTITLE_REQUEST_INVALID', 'the request could not be read', [
      { message: 'send the body as valid JSON with Content-Type: application/json' },
    ]);
  }
  const failure = databaseFailure(error);
  if (failure === 'unavailable')
    return new EntitleError(
      'ENTITLE_DATABASE_UNAVAILABLE',
      'the database could not be reached or did not answer in time',
    );
  // A value the database would not store that the checks at the door let through (a fault of
  // ours, logged by the error handler): still the caller's request that cannot be stored.
  if (failure === 'value')
    return new EntitleError('ENTITLE_REQUEST_INVALID', 'a value in the request cannot be stored', [
      { message: 'check the request against /openapi.json and send it again' },
    ]);
  return new EntitleError('ENTITLE_INTERNAL', 'an unexpected error stopped the request');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: EntitleError): FastifyReply {
  const problem = problemOf(error, request.id);
  // A route may have set a longer wait (a decision in doubt); otherwise the usual one.
  if ((problem.status === 503 || problem.status === 429) && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/**
 * Answers a request that Node could not take as HTTP (a head over 16 KiB, bytes that are not
 * HTTP, a head or body too slow), then closes the connection: the answer says so with
 * `Connection: close`. Fastify's own handler leaves that header out, so a client would send its
 * next request on a connection about to close and lose it. Nothing is written while a response is
 * pending on the connection; the connection is closed either way.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['ENTITLE_HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['ENTITLE_REQUEST_TIMEOUT', 'the request did not arrive in time']
        : ['ENTITLE_NOT_HTTP', 'the request could not be read as HTTP'];
  const problem = JSON.stringify(problemOf(new EntitleError(code, detail)));
  // Only on a connection with no response pending: an answer written while an earlier request
  // on it is still being answered would be read as that request's answer.
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !pending) {
    socket.write(
      `HTTP/1.1 ${errorRegistry[code].status} ${errorRegistry[code].title}\r\n` +
        'Connection: close\r\n' +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(problem)}\r\n\r\n` +
        problem,
    );
  }
  socket.destroy(error);
}
