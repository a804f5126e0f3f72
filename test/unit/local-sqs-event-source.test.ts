import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createLambdaContext, parseBatchResponse, toSqsRecord } from '../../local/lambda-sqs-shapes.js';
import { sqsRecordFactory } from '../support/sqs-records.js';

const ARN = 'arn:aws:sqs:us-east-1:000000000000:ingest';

describe('parseBatchResponse (how Lambda reads a partial batch response)', () => {
  const records = [sqsRecordFactory('a'), sqsRecordFactory('b')];
  const [first, second] = records;
  if (!first || !second) throw new Error('factory failed');

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an empty list', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
  ])('treats %s as full success', (_label, response) => {
    expect(parseBatchResponse(response, records)).toEqual({ ok: true, failedIds: new Set() });
  });

  it('fails exactly the named records', () => {
    const parsed = parseBatchResponse({ batchItemFailures: [{ itemIdentifier: second.messageId }] }, records);
    expect(parsed).toEqual({ ok: true, failedIds: new Set([second.messageId]) });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a wrong key name', { batchItemFailures: [{ itemId: 'x' }] }],
    ['an unknown message id', { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }],
    ['a list that is not a list', { batchItemFailures: 'all' }],
    ['a non-object response', 'ok'],
  ])('fails the whole batch on %s', (_label, response) => {
    expect(parseBatchResponse(response, records).ok).toBe(false);
  });
});

describe('toSqsRecord', () => {
  it('builds the record Lambda delivers, with lowercase attribute keys and base64 binaries', () => {
    const message: Message = {
      MessageId: 'm-1',
      ReceiptHandle: 'rh-1',
      Body: '{"v":1}',
      MD5OfBody: 'md5-body',
      MD5OfMessageAttributes: 'md5-attrs',
      Attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1700000000000',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1700000000100',
        AWSTraceHeader: 'Root=1-abc',
      },
      MessageAttributes: {
        trace: { DataType: 'String', StringValue: 'abc' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      },
    };
    expect(toSqsRecord(message, ARN, 'us-east-1')).toEqual({
      messageId: 'm-1',
      receiptHandle: 'rh-1',
      body: '{"v":1}',
      attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1700000000000',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1700000000100',
        AWSTraceHeader: 'Root=1-abc',
      },
      messageAttributes: {
        trace: { stringValue: 'abc', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: 'md5-body',
      md5OfMessageAttributes: 'md5-attrs',
      eventSource: 'aws:sqs',
      eventSourceARN: ARN,
      awsRegion: 'us-east-1',
    });
  });

  it('refuses a message without a receipt handle rather than inventing one', () => {
    expect(() => toSqsRecord({ MessageId: 'm', Body: 'b', MD5OfBody: 'x' }, ARN, 'us-east-1')).toThrow(/ReceiptHandle/);
  });
});

describe('createLambdaContext', () => {
  it('counts the remaining time down from the function timeout and names the function in its ARN', async () => {
    const context = createLambdaContext({ functionName: 'ingest', region: 'us-east-1', timeoutMs: 5_000 });
    const first = context.getRemainingTimeInMillis();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const later = context.getRemainingTimeInMillis();
    expect(first).toBeLessThanOrEqual(5_000);
    expect(first).toBeGreaterThan(4_900);
    expect(later).toBeLessThan(first);
    expect(context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:ingest');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never reports negative time once the deadline has passed', async () => {
    const context = createLambdaContext({ functionName: 'f', region: 'us-east-1', timeoutMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });
});
