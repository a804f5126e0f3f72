import { createPollerHandler } from '../discovery/handler-factory.js';

/** Lambda entry point, invoked by its EventBridge Scheduler schedule. */
export const handler = await createPollerHandler('projects');
