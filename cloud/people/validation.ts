import type { z } from 'zod';
import { HomebedError } from '../../common/errors.js';

/**
 * Repositories validate their own input (the CLI and the HTTP layer both
 * call them); a failure is a HomebedError with the caller's code and the
 * problems as one readable line, like the HTTP layer's 400 replies.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, code: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
  throw new HomebedError(code, problems.join('; '));
}
