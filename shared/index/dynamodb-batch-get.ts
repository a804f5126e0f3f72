import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { BatchGetCommandOutput, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sleepFor } from '../platform/abortable-sleep.js';
import { ArchiverError } from '../platform/errors.js';

/** BatchGetItem takes at most 100 keys per request. */
export const BATCH_GET_MAX_KEYS = 100;

/** DynamoDB still left keys unprocessed after every attempt (throttling or the 16 MB response cap). */
export class BatchGetIncompleteError extends ArchiverError {
  constructor(readonly unprocessed: number) {
    super(`DynamoDB left ${unprocessed} key(s) of a BatchGetItem unprocessed after retries`);
  }
}

export interface BatchGetOptions {
  /** A ProjectionExpression and its names: read only what the caller needs (network bytes, parsing). */
  projection?: { expression: string; names?: Record<string, string> };
  consistentRead: boolean;
  signal?: AbortSignal;
  /** Attempts per chunk of 100 keys, the first included. */
  maxAttempts?: number;
  /** First backoff before retrying unprocessed keys; doubles each attempt (full jitter), capped at 2 s. */
  baseBackoffMs?: number;
}

type Key = Record<string, string>;
type Sender = Pick<DynamoDBDocumentClient, 'send'>;

/**
 * Reads `keys` from one table with BatchGetItem, 100 keys a request, one request at a time. Keys
 * DynamoDB returns as UnprocessedKeys (it may, under throttling or near its response size cap) are
 * asked for again after an exponential backoff with full jitter, as AWS advises; after `maxAttempts`
 * a BatchGetIncompleteError says how many are missing, so no caller mistakes them for absent items.
 * A retry is rebuilt from the caller's own options rather than re-sending the returned
 * KeysAndAttributes, so the projection and consistency stay what the caller asked for whatever the
 * server echoes back (dynalite, for one, drops the ProjectionExpression from UnprocessedKeys).
 * Returns the items found, in no particular order; keys with no item are simply absent.
 */
export async function batchGetItems(
  doc: Sender,
  table: string,
  keys: readonly Key[],
  opts: BatchGetOptions,
): Promise<Record<string, unknown>[]> {
  const maxAttempts = opts.maxAttempts ?? 8;
  const baseBackoffMs = opts.baseBackoffMs ?? 50;
  const signal = opts.signal ?? new AbortController().signal;
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) {
    let pending: Key[] = keys.slice(i, i + BATCH_GET_MAX_KEYS);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) {
        if (attempt > maxAttempts) throw new BatchGetIncompleteError(pending.length);
        await sleepFor(Math.random() * Math.min(2_000, baseBackoffMs * 2 ** (attempt - 2)), signal);
      }
      const res: BatchGetCommandOutput = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: opts.consistentRead,
              ...(opts.projection
                ? { ProjectionExpression: opts.projection.expression, ExpressionAttributeNames: opts.projection.names }
                : {}),
            },
          },
        }),
        { abortSignal: signal },
      );
      items.push(...(res.Responses?.[table] ?? []));
      pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
    }
  }
  return items;
}
