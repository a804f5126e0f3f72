import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_REASON_LENGTH } from '../../shared/contracts/job.js';
import {
  MAX_WEBHOOK_CHATS,
  MAX_WEBHOOK_IDS,
  WEBHOOK_ERROR_TYPES,
  WEBHOOK_HEADERS,
  WEBHOOK_ROUTE,
  WebhookEventSchema,
} from '../../shared/contracts/webhook.js';

// The OpenAPI document of POST /events kept in step with the contract the handler enforces.
const doc = JSON.parse(readFileSync(new URL('../../docs/webhook-openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
const Operation = z.object({
  parameters: z.array(z.object({ name: z.string(), in: z.string(), required: z.boolean() })),
  requestBody: z.object({
    content: z.object({
      'application/json': z.object({ examples: z.record(z.string(), z.object({ value: z.unknown() })) }),
    }),
  }),
  responses: z.record(z.string(), z.unknown()),
});

describe('OpenAPI document of the webhook', () => {
  const operation = Operation.parse(doc.paths[WEBHOOK_ROUTE.resource]?.[WEBHOOK_ROUTE.method.toLowerCase()]);

  it('documents exactly the route the handler and API Gateway serve', () => {
    expect(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    ).toEqual([`${WEBHOOK_ROUTE.method} ${WEBHOOK_ROUTE.resource}`]);
  });

  it('requires exactly the three Standard Webhooks headers', () => {
    expect(operation.parameters.map((p) => [p.in, p.name, p.required]).sort()).toEqual(
      Object.values(WEBHOOK_HEADERS)
        .map((h) => ['header', h, true])
        .sort(),
    );
  });

  it('states the limits the schema enforces, and no field it does not accept', () => {
    const event = z
      .object({
        additionalProperties: z.literal(false),
        properties: z
          .object({
            v: z.object({ enum: z.array(z.number()) }),
            fileIds: z.object({ maxItems: z.number() }),
            chatIds: z.object({ maxItems: z.number() }),
            reason: z.object({ maxLength: z.number() }),
          })
          .strict(),
        description: z.string(),
      })
      .passthrough()
      .parse(doc.components.schemas['EventV1']);
    expect(event.properties.v.enum).toEqual([1]);
    expect(event.properties.fileIds.maxItems).toBe(MAX_WEBHOOK_IDS);
    expect(event.properties.chatIds.maxItems).toBe(MAX_WEBHOOK_CHATS);
    expect(event.properties.reason.maxLength).toBe(MAX_REASON_LENGTH);
    expect(event.description).toContain(`at most ${MAX_WEBHOOK_IDS} ids`);
  });

  it('gives examples the handler accepts', () => {
    const examples = Object.values(operation.requestBody.content['application/json'].examples);
    expect(examples.length).toBeGreaterThan(0);
    for (const { value } of examples) expect(WebhookEventSchema.safeParse(value).error?.issues ?? []).toEqual([]);
  });

  it('documents every answer the endpoint gives, and every error type', () => {
    expect(Object.keys(operation.responses).sort()).toEqual(['202', '400', '401', '404', '409', '413', '429', '503']);
    const error = z
      .object({
        properties: z.object({
          error: z.object({ properties: z.object({ type: z.object({ enum: z.array(z.string()) }) }) }),
        }),
      })
      .parse(doc.components.schemas['Error']);
    expect(error.properties.error.properties.type.enum).toEqual([...WEBHOOK_ERROR_TYPES]);
  });
});
