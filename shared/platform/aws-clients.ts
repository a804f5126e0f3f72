/**
 * Client factories, used alike by the Lambdas, the local stack, the tests and the benchmark. Each
 * has a module of its own, so the lookup loads DynamoDB alone at a cold start and its rare routes'
 * bundle S3 and SQS alone (lambdas/lookup/runtime.ts, rare-routes.ts).
 */
export { createDocumentClient } from './dynamodb-client.js';
export { createS3Client, createSqsClient, mayLeavePayloadUnsigned } from './s3-sqs-clients.js';
export type { ClientOptions, SignableRequest } from './s3-sqs-clients.js';
