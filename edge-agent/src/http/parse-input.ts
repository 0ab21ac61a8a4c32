import type { z } from 'zod';
import { errors } from '../errors.ts';

/** Validates a request's query or body; the error names every bad field (EDGE_ERR_BAD_REQUEST). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${[where, ...issue.path].join('.')}: ${issue.message}`);
  throw errors.EDGE_ERR_BAD_REQUEST(problems.join('; '));
}
