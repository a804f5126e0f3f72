/**
 * The zod every schema under shared/ and lambdas/ is written with: `zod/mini`, set to English messages.
 * Every schema module imports this one as the namespace `z` (Biome refuses `zod` and `zod/mini` there).
 *
 * Why mini: classic zod attaches every method (`.optional()`, `.min()`, ...) to every schema instance
 * as it is built, which a Lambda pays for at each cold start; mini's schemas carry only `parse` and
 * `check`, and the rest is plain functions (`z.optional(s)`, `s.check(z.minLength(1))`) that esbuild
 * drops when unused (docs/benchmark.md, "Bundle size and cold start"). A bundle that imported classic
 * zod anywhere would carry both, so nothing bundled into a Lambda may.
 *
 * Why here: mini loads no locale, and its messages would all read "Invalid input". Several messages
 * are part of the project's answers (the lookup API's 400s, the webhook's, dead-letter reasons), so
 * the English locale is set once, by the module every schema imports, before any schema parses.
 * The locale is zod's global configuration, shared with classic zod where a CLI or test loads both.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
/**
 * What `parse` throws (mini's errors are `$ZodError`s; classic's `ZodError` is one too). Exported by
 * name: `z.core.$ZodError` used as a value makes esbuild keep mini's whole namespace, every locale
 * included (360 KiB more in the ingest bundle).
 */
export { $ZodError } from 'zod/v4/core';
