/**
 * The lookup's rare routes (lambdas/lookup/rare-routes.ts) are bundled into a file of their own
 * beside index.mjs (infra/service-stack.ts, `lazyModules`), which lambdas/lookup/runtime.ts imports
 * on the first request that needs it. One name for both.
 */
export const RARE_ROUTES_BUNDLE = 'rare-routes.mjs';
export const RARE_ROUTES_ENTRY = 'lambdas/lookup/rare-routes.ts';
