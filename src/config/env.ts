import { z } from 'zod';
import { describeIssues } from '../shared/contract/export-contract';
import { ConfigError } from './errors';

/** Parses `env` with `schema`, or throws a `ConfigError` naming each bad variable (`env.NAME: …`). */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(`Invalid configuration: ${describeIssues(result.error.issues, 'env')}`);
  return result.data;
}

/** A trimmed string; unset and blank mean the same: absent. */
export const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

/** An env variable read through `schema`, where unset and blank mean the same: absent. */
export const optionalEnv = <S extends z.ZodType>(schema: S) =>
  z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim()) : v), schema.optional());

/** `true`/`1`/`yes` is true; `false`/`0`/`no`, blank or unset is false; anything else is refused. */
export const boolString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
