import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

/**
 * Every API error is `{ error: 'HB_…', message }` with a stable code (clients
 * switch on the code, people read the message); docs/api.md lists them.
 */
export interface ApiError {
  error: string;
  message: string;
}

export function sendError(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).send({ error, message } satisfies ApiError);
}

/** A zod failure as one readable line: `path: problem; path: problem`. */
export function describeProblems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

/**
 * Validate a request part against its schema; on failure reply 400
 * `HB_BAD_REQUEST` and return null (the route returns the reply).
 */
export function parseOr400<S extends z.ZodType>(
  reply: FastifyReply,
  schema: S,
  value: unknown,
): z.output<S> | null {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  sendError(reply, 400, 'HB_BAD_REQUEST', describeProblems(result.error));
  return null;
}
