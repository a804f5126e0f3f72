import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from '../contracts/zod.js';

/** Where the running local stack writes its endpoints for scripts (the `archiver` CLI, curl). */
export const DEFAULT_DATA_DIR = resolve(process.env['ARCHIVER_DATA_DIR'] ?? '.archiver');

export const StackInfoSchema = z.object({
  lookupUrl: z.url(),
  /** The auditor console (absent in stack files written before it was served). */
  consoleUrl: z.optional(z.url()),
  upstream: z.object({ url: z.url(), sample: z.boolean() }),
  region: z.string(),
  s3: z.object({ endpoint: z.url(), server: z.string(), bucket: z.string() }),
  dynamodb: z.object({ endpoint: z.url(), table: z.string() }),
  sqs: z.object({ endpoint: z.url(), queueUrl: z.url(), deadLetterQueueUrl: z.url() }),
  /** POST /events, and the Standard Webhooks secret(s) it accepts (generated at each start). */
  webhook: z.object({
    url: z.url(),
    secret: z.string(),
    previousSecret: z.optional(z.string()),
    replayTable: z.string(),
  }),
  dataDir: z.string(),
  pid: z.int(),
});
export type StackInfo = z.infer<typeof StackInfoSchema>;

export function stackFilePath(dataDir = DEFAULT_DATA_DIR): string {
  return resolve(dataDir, 'stack.json');
}

/** Reads the running stack's endpoints; explains what to do when it is not running. */
export async function readStackInfo(dataDir = DEFAULT_DATA_DIR): Promise<StackInfo> {
  const path = stackFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`no running stack found (${path} is missing): start it with "npm start"`);
  }
  return StackInfoSchema.parse(JSON.parse(text));
}
