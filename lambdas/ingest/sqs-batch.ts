import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFERRALS_ATTRIBUTE, parseDeferrals } from '../../shared/ingest/ingest-queue.js';
import type { IngestMessage } from '../../shared/ingest/ingest-queue.js';
import { processIngestMessage } from '../../shared/ingest/process-message.js';
import type { IngestDeps } from '../../shared/ingest/process-message.js';
import { DeadlineError } from '../../shared/platform/errors.js';
import { activeMattersOnce } from '../../shared/holds/hold-at-ingest.js';

/**
 * The ingest handler for an SQS event source: each record processed on its own, failures reported as
 * `batchItemFailures` (Powertools BatchProcessor) so one bad record never fails its neighbours.
 * Every request and upload is aborted `deadlineMarginMs` (default 15 s) before the Lambda's timeout,
 * so that failures are reported and the jobs return to the queue.
 */
export function createIngestHandler(
  deps: IngestDeps & { deadlineMarginMs?: number },
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const deadline = new AbortController();
    const margin = deps.deadlineMarginMs ?? 15_000;
    const timer = setTimeout(
      () => deadline.abort(new DeadlineError()),
      Math.max(0, context.getRemainingTimeInMillis() - margin),
    );
    try {
      const processor = new BatchProcessor(EventType.SQS);
      // The active legal-hold matters are read once per invocation, on the first file archived.
      const activeMatters = deps.holds ? activeMattersOnce(deps.holds.matters) : undefined;
      const processRecord = (record: SQSRecord) =>
        processIngestMessage(toIngestMessage(record), deadline.signal, deps, activeMatters);
      return await processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      clearTimeout(timer);
    }
  };
}

function toIngestMessage(record: SQSRecord): IngestMessage {
  return {
    messageId: record.messageId,
    body: record.body,
    receiptHandle: record.receiptHandle,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
    deferrals: parseDeferrals(record.messageAttributes?.[DEFERRALS_ATTRIBUTE]?.stringValue),
  };
}
